import 'reflect-metadata';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { applyServerTimeouts, configureApp } from './app.setup.js';
import { AppLogger } from './common/app-logger.js';
import { type AppConfig, ConfigError, loadConfig } from './config/config.js';
import {
  type EmbeddedDatabase,
  EmbeddedDatabaseError,
  startEmbeddedPostgres,
} from './database/embedded-postgres.js';
import { runMigrations } from './app.migrate.js';

/** Starts the API: database (embedded unless DATABASE_URL), pending migrations, then HTTP. */
async function serve(config: AppConfig): Promise<void> {
  const logger = new AppLogger(config.logLevel).install();
  const log = new Logger('Bootstrap');

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dir: join(config.dataDir, 'postgres'),
      owner: 'the service',
      log: (m) => log.log(m),
    });
    databaseUrl = embedded.url;
  }
  const applied = await runMigrations(databaseUrl);
  log.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl), {
    logger,
  });
  configureApp(app, config);
  applyServerTimeouts(app.getHttpServer(), config);
  await app.listen(config.port);
  log.log(`listening on ${config.appBaseUrl} (Swagger UI: ${config.appBaseUrl}/docs)`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal} received: draining requests, then stopping`);
    try {
      await app.close();
      await embedded?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.entra.clientId) {
    // Outside production only (loadConfig refuses it in production). The bundled emulator is not part of the
    // service: `npm start` runs it and starts this process configured for it.
    console.error(
      'ENTRA_CLIENT_ID is not set: run `npm start` to use the bundled Entra emulator, or set ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET for a real tenant',
    );
    process.exit(1);
  }
  await serve(config);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof EmbeddedDatabaseError) {
    // Something the operator fixes: one line, no stack trace.
    console.error(error.message);
  } else {
    console.error(
      'fatal: the service could not start:',
      error instanceof Error ? (error.stack ?? error.message) : error,
    );
  }
  process.exit(1);
});
