import 'reflect-metadata';
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppLogger } from './common/app-logger.js';
import { type AppConfig, ConfigError, loadConfig } from './config/config.js';
import {
  type EmbeddedDatabase,
  EmbeddedDatabaseError,
  startEmbeddedPostgres,
} from './database/embedded-postgres.js';
import { runMigrations } from './app.migrate.js';
import { resolveKeyring } from './integrations/token-cipher.js';

/** The database this instance uses: the embedded PostgreSQL unless DATABASE_URL, with its migrations applied. */
async function prepareDatabase(
  config: AppConfig,
  log: Logger,
): Promise<{ databaseUrl: string; embedded: EmbeddedDatabase | undefined }> {
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
  try {
    const applied = await runMigrations(databaseUrl);
    log.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return { databaseUrl, embedded };
}

/** Builds the Nest app on `databaseUrl` and listens on PORT. Loaded only where HTTP is served (not in a primary). */
async function startApp(config: AppConfig, databaseUrl: string, logger: AppLogger) {
  const [{ NestFactory }, { AppModule }, { applyServerTimeouts, configureApp }] = await Promise.all([
    import('@nestjs/core'),
    import('./app.module.js'),
    import('./app.setup.js'),
  ]);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl), {
    logger,
  });
  configureApp(app, config);
  applyServerTimeouts(app.getHttpServer(), config);
  await app.listen(config.port);
  return app;
}

/**
 * Under `npm start`, the launcher runs this process in a process group of its own (so Ctrl-C reaches only the
 * launcher, which sends SIGTERM) with an IPC channel: when the launcher goes away without a word (killed,
 * crashed), stop as on SIGTERM rather than serve on, detached from any terminal. A cluster worker's channel is
 * its primary's, which stops it itself.
 */
function stopWhenLauncherGone(stop: () => void): void {
  if (!process.channel || cluster.isWorker) return;
  process.channel.unref();
  process.once('disconnect', stop);
}

/** WEB_CONCURRENCY=1: one process runs the database (embedded unless DATABASE_URL), the migrations and HTTP. */
async function serve(config: AppConfig): Promise<void> {
  const logger = new AppLogger(config.logLevel).install();
  const log = new Logger('Bootstrap');

  const { databaseUrl, embedded } = await prepareDatabase(config, log);
  const app = await startApp(config, databaseUrl, logger);
  log.log(`listening on ${config.appBaseUrl} (Swagger UI: ${config.appBaseUrl}/docs)`);

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.log(`${why}: draining requests, then stopping`);
    try {
      await app.close();
      await embedded?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT received'));
  process.once('SIGTERM', () => void shutdown('SIGTERM received'));
  stopWhenLauncherGone(() => void shutdown('the launcher is gone'));
}

/** Waits between a worker's unexpected exit and its replacement, longer with each exit in a row. */
const RESTART_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
/** A worker that has served this long counts as healthy again: its next exit starts at the first delay. */
const HEALTHY_AFTER_MS = 60_000;
/** Workers failing before they listen this many times in a row (none listening in between): give up. */
const MAX_BOOT_FAILURES = 3;
/** Longest wait for workers to drain on shutdown before they are killed. */
const DRAIN_LIMIT_MS = 30_000;

interface Slot {
  worker: Worker;
  listeningSince: number | undefined;
  exitsInARow: number;
  restart: NodeJS.Timeout | undefined;
}

/**
 * WEB_CONCURRENCY>1: this process is the cluster primary. It serves no request itself: it prepares the
 * database once (starts the embedded PostgreSQL, which it owns, and applies the migrations), creates the
 * development token key once, then runs N workers that each build the app and share the port (Node's cluster
 * hands out connections round-robin). Workers are replicas: everything they share is in PostgreSQL.
 */
async function runPrimary(config: AppConfig): Promise<void> {
  new AppLogger(config.logLevel).install();
  const log = new Logger('Cluster');

  const { databaseUrl, embedded } = await prepareDatabase(config, log);
  try {
    // Generated into DATA_DIR on first use when TOKEN_ENCRYPTION_KEYS is unset: once here, not raced by N workers.
    resolveKeyring(config);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }

  const slots: Slot[] = [];
  let stopping = false;
  let bootFailures = 0;
  let announced = false;

  const fork = (slot?: Slot): Slot => {
    // The resolved URL (it holds the embedded server's password) reaches the workers through their
    // environment only, never a log line.
    const worker = cluster.fork({ DATABASE_URL: databaseUrl });
    if (!slot) {
      slot = { worker, listeningSince: undefined, exitsInARow: 0, restart: undefined };
      slots.push(slot);
    }
    Object.assign(slot, { worker, listeningSince: undefined, restart: undefined });
    return slot;
  };

  const stopWorkers = async (signal: NodeJS.Signals) => {
    for (const slot of slots) clearTimeout(slot.restart);
    const running = slots.map((s) => s.worker).filter((w) => w.process.exitCode === null && !w.isDead());
    const exited = running.map((w) => new Promise<void>((done) => w.once('exit', () => done())));
    for (const worker of running) worker.process.kill(signal);
    const limit = setTimeout(() => {
      log.warn(`workers still running ${DRAIN_LIMIT_MS / 1000} s after ${signal}: killing them`);
      for (const worker of running) if (!worker.isDead()) worker.process.kill('SIGKILL');
    }, DRAIN_LIMIT_MS);
    await Promise.all(exited);
    clearTimeout(limit);
  };

  const giveUp = async (message: string) => {
    stopping = true;
    await stopWorkers('SIGTERM');
    await embedded?.stop().catch(() => undefined);
    console.error(message);
    process.exit(1);
  };

  cluster.on('listening', (worker) => {
    const slot = slots.find((s) => s.worker === worker);
    if (!slot || slot.listeningSince !== undefined) return;
    slot.listeningSince = Date.now();
    bootFailures = 0;
    if (!announced && slots.every((s) => s.listeningSince !== undefined)) {
      announced = true;
      log.log(
        `${slots.length} workers (pids ${slots.map((s) => s.worker.process.pid).join(', ')}) listening on ` +
          `${config.appBaseUrl} (Swagger UI: ${config.appBaseUrl}/docs)`,
      );
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.find((s) => s.worker === worker);
    if (stopping || !slot) return;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (slot.listeningSince === undefined) {
      bootFailures += 1;
      if (bootFailures >= MAX_BOOT_FAILURES) {
        void giveUp(
          `fatal: workers failed to start ${bootFailures} times in a row (the last: ${how}); stopping the service`,
        );
        return;
      }
    } else if (Date.now() - slot.listeningSince >= HEALTHY_AFTER_MS) {
      slot.exitsInARow = 0;
    }
    const delay = RESTART_DELAYS_MS[Math.min(slot.exitsInARow, RESTART_DELAYS_MS.length - 1)];
    slot.exitsInARow += 1;
    const what = slot.listeningSince === undefined ? 'failed to start' : 'exited unexpectedly';
    log.warn(`worker ${worker.process.pid} ${what} (${how}); starting a replacement in ${delay / 1000} s`);
    slot.restart = setTimeout(() => fork(slot), delay);
  });

  for (let i = 0; i < config.webConcurrency; i++) fork();

  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.log(`${why}: draining the workers' requests, then stopping`);
    try {
      // Workers drain on SIGTERM whatever signal stopped the primary (they ignore SIGINT, see serveWorker).
      await stopWorkers('SIGTERM');
      await embedded?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT received'));
  process.once('SIGTERM', () => void shutdown('SIGTERM received'));
  stopWhenLauncherGone(() => void shutdown('the launcher is gone'));
}

/** A cluster worker: the app on the primary's database (DATABASE_URL set by the primary), no migrations. */
async function serveWorker(config: AppConfig): Promise<void> {
  // Ctrl-C in a terminal reaches the whole process group: the primary stops the workers itself, in order.
  process.on('SIGINT', () => undefined);
  const logger = new AppLogger(config.logLevel).install();
  const log = new Logger('Bootstrap');
  const app = await startApp(config, config.databaseUrl!, logger);
  log.log(`worker listening on ${config.appBaseUrl}`);
  process.once('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
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
  if (cluster.isWorker) await serveWorker(config);
  else if (config.webConcurrency > 1) await runPrimary(config);
  else await serve(config);
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
