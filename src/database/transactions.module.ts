import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';

/**
 * Transactions joined through the async context instead of an `EntityManager` handed from call to call: a
 * service marks the unit of work (`TransactionHost.withTransaction` or `@Transactional()`), and every
 * repository reads `TransactionHost.tx` — the current transaction's manager, or the data source's outside
 * one. HTTP requests get a context from the middleware; `withTransaction` opens one itself where there is
 * none (the CLI, timers), and the sync worker opens a fresh one per drain so it never inherits a caller's.
 */
export const TransactionsModule = ClsModule.forRoot({
  global: true,
  middleware: { mount: true },
  plugins: [
    new ClsPluginTransactional({
      adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }),
    }),
  ],
});
