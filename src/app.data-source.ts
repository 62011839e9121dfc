import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../migrations/index.js';
import { ENTITIES } from './app.entities.js';
import type { DatabaseTimeouts } from './config/config.js';

/**
 * The one set of TypeORM options, shared by the Nest app, the migration CLI and the tests. `timeouts` bound the
 * running service's calls: without them (migrations, the CLI) a statement may run as long as it needs, as a
 * migration building an index on a large table or waiting for another replica's migration lock must.
 */
export function dataSourceOptions(url: string, timeouts?: DatabaseTimeouts): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    uuidExtension: 'pgcrypto',
    extra: {
      max: 10,
      application_name: 'entra-directory-integration',
      // node-postgres sends both in the startup message: every connection of the pool runs under them.
      ...(timeouts && {
        statement_timeout: timeouts.statementMs,
        idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
        connectionTimeoutMillis: timeouts.connectMs,
      }),
    },
  };
}

export function createDataSource(url: string): DataSource {
  return new DataSource(dataSourceOptions(url));
}
