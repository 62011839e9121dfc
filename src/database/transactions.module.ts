import type { DynamicModule, Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';

const ENHANCERS = new Set<unknown>([APP_GUARD, APP_INTERCEPTOR]);

/**
 * `ClsModule.forRoot` registers a global guard and a global interceptor even when neither is mounted: no-ops
 * that still run on every request, and the interceptor alone makes Nest wrap every handler in an RxJS
 * pipeline. Nothing here needs them (no context is opened per request), so they are left out.
 */
function withoutGlobalEnhancers(module: DynamicModule): DynamicModule {
  return {
    ...module,
    providers: module.providers?.filter(
      (provider: Provider) => !(typeof provider === 'object' && ENHANCERS.has(provider.provide)),
    ),
    imports: module.imports?.map((imported) =>
      typeof imported === 'object' && imported !== null && 'module' in imported
        ? withoutGlobalEnhancers(imported as DynamicModule)
        : imported,
    ),
  };
}

/**
 * Transactions joined through the async context instead of an `EntityManager` handed from call to call: a
 * service marks the unit of work (`TransactionHost.withTransaction` or `@Transactional()`), and every
 * repository reads `TransactionHost.tx` — the current transaction's manager, or the data source's outside
 * one. `withTransaction` opens the context it needs itself, so a request gets none up front (a context per
 * request, and the plugin hooks that fill it, cost CPU on every request, almost all of which never open a
 * transaction); the sync worker opens a fresh one per drain so it never inherits a caller's.
 */
export const TransactionsModule = withoutGlobalEnhancers(
  ClsModule.forRoot({
    global: true,
    middleware: { mount: false },
    plugins: [
      new ClsPluginTransactional({
        adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }),
      }),
    ],
  }),
);
