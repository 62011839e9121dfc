import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pg from 'pg';
import request from 'supertest';
import { inject } from 'vitest';
import { AppModule } from '../../src/app.module.js';
import { applyServerTimeouts, configureApp } from '../../src/app.setup.js';
import { type AppConfig, loadConfig } from '../../src/config/config.js';
import { runMigrations } from '../../src/app.migrate.js';
import { DEMO, type EntraEmulator, startEntraEmulator } from '@entra-integration/entra-emulator';

export const APP_BASE_URL = 'http://localhost:3000';
export const APP_UI_URL = 'http://ui.localhost:5173';
export const TEST_KEY_1 = Buffer.alloc(32, 11).toString('base64');
export const TEST_KEYRING = `k1:${TEST_KEY_1}`;

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

/**
 * Requests as a browser on `APP_BASE_URL` sends them: with its `Host` (supertest would name the ephemeral
 * 127.0.0.1 port, a host the service redirects away from before a flow starts). A test may still `.set('Host')`.
 */
function asBrowserOf(client: ReturnType<typeof request>, appBaseUrl: string): ReturnType<typeof request> {
  const host = new URL(appBaseUrl).host;
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof property !== 'string' || !HTTP_METHODS.has(property) || typeof value !== 'function')
        return value;
      return (...args: unknown[]) =>
        (value as (...a: unknown[]) => request.Test).apply(target, args).set('Host', host);
    },
  });
}

/** A database of its own in the shared test PostgreSQL, migrated to the latest schema. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `test_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await runMigrations(url.toString());
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestContext {
  app: NestExpressApplication;
  config: AppConfig;
  emulator: EntraEmulator;
  /** Direct SQL on this test's database, for asserting what is stored (never for shortcuts the API offers). */
  sql: pg.Pool;
  http(): ReturnType<typeof request>;
  /** Restarts the app on the same database and emulator with other settings (e.g. a rotated keyring). */
  reopen(env: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** The real app on a fresh database, talking to a fresh Entra emulator over HTTPS. */
export async function createTestContext(env: Record<string, string> = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const tls = inject('emulatorTls');
  const emulator = await startEntraEmulator({
    tls,
    clients: [
      {
        ...DEMO.client,
        redirectUris: [
          `${APP_BASE_URL}/auth/microsoft/callback`,
          `${APP_BASE_URL}/auth/microsoft/connect/callback`,
          `${APP_BASE_URL}/auth/microsoft/assignment/callback`,
        ],
      },
    ],
  });
  const baseEnv: Record<string, string> = {
    NODE_ENV: 'test',
    APP_BASE_URL,
    APP_UI_URL,
    DATABASE_URL: database.url,
    ENTRA_CLIENT_ID: DEMO.client.clientId,
    ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
    ENTRA_AUTHORITY_HOST: emulator.authorityHost,
    GRAPH_BASE_URL: emulator.graphBaseUrl,
    TOKEN_ENCRYPTION_KEYS: TEST_KEYRING,
    LOG_LEVEL: 'error',
    ...env,
  };
  const start = async (overrides: Record<string, string>) => {
    const config = loadConfig({ ...baseEnv, ...overrides });
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, database.url), {
      logger: ['fatal'],
      abortOnError: false,
    });
    configureApp(app, config);
    applyServerTimeouts(app.getHttpServer(), config);
    await app.init();
    return { app, config };
  };
  const first = await start({});
  const sql = new pg.Pool({ connectionString: database.url, max: 2 });
  const ctx: TestContext = {
    ...first,
    emulator,
    sql,
    http: () => asBrowserOf(request(ctx.app.getHttpServer()), ctx.config.appBaseUrl),
    reopen: async (overrides) => {
      await ctx.app.close();
      Object.assign(ctx, await start(overrides));
    },
    close: async () => {
      await ctx.app.close();
      await sql.end();
      await emulator.close();
      await database.drop();
    },
  };
  return ctx;
}
