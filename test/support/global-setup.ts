import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { ensureCertificates } from '@entra-integration/entra-emulator';

let database: EmbeddedDatabase | undefined;
let directory: string | undefined;

/**
 * One real PostgreSQL for the whole run (each test file then creates its own database in it), unless
 * TEST_DATABASE_URL points at a server; and the emulator's certificates, trusted by every test worker through
 * NODE_EXTRA_CA_CERTS exactly as `npm start` trusts them.
 */
export async function setup(project: TestProject): Promise<void> {
  directory = await mkdtemp(join(tmpdir(), 'entra-integration-test-'));
  // As root, PostgreSQL runs as the unprivileged `postgres` user, which must be able to reach its data dir.
  await chmod(directory, 0o755);
  const certificates = await ensureCertificates(join(directory, 'certs'));
  process.env.NODE_EXTRA_CA_CERTS = certificates.caPath;
  project.provide('emulatorTls', {
    cert: certificates.cert,
    key: certificates.key,
    caPath: certificates.caPath,
  });

  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('postgresAdminUrl', external);
    return;
  }
  database = await startEmbeddedPostgres({
    dir: join(directory, 'postgres'),
    database: 'postgres',
    ephemeral: true,
  });
  project.provide('postgresAdminUrl', database.url);
}

export async function teardown(): Promise<void> {
  await database?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    emulatorTls: { cert: string; key: string; caPath: string };
  }
}
