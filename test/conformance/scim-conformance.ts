/**
 * npm run conformance:scim
 *
 * Microsoft's SCIM reference collection (`scim/`, the patched copy) run with newman against a fresh organization of
 * the built service, started as `npm start` starts it: the development launcher with the bundled Entra emulator and
 * an embedded PostgreSQL in a new DATA_DIR. The organization is made ready as a new user would: sign-in with
 * Microsoft, `orgs:set-plan … enterprise` with the operator CLI, SCIM switched on and a token created through the
 * REST API. Exits non-zero on any failed assertion (newman's exit code), and prints the totals.
 *
 * SCIM_TENANT_URL + SCIM_TOKEN run the collection against an endpoint that is already up instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificates } from '@entra-integration/entra-emulator';
import { freePort } from '../../src/database/embedded-postgres.js';
import { REPO, SERVICE, signIn } from '../bench/bench-support.js';
import { createScimToken, setPlanWithCli } from '../bench/scim-support.js';

const COLLECTION = join(
  REPO,
  'test/conformance/scim/AzureAD-SCIMReferenceCode.PostmanCollection.patched.json',
);
const LAUNCHER = join(REPO, 'packages/entra-emulator/dist/start-with-emulator.js');
const NEWMAN = join(REPO, 'node_modules/newman/bin/newman.js');

/** Waits for /health/ready of the launched service. */
async function ready(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start's launcher exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the service did not become ready within 90 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The parts of newman's JSON report read here. */
interface NewmanRun {
  stats: Record<string, { total: number; failed: number }>;
  executions: {
    item: { name: string };
    request: {
      method: string;
      url: {
        protocol?: string;
        host?: string[];
        port?: string;
        path?: string[];
        query?: { key: string; value: string }[];
      };
    };
    response?: { code: number; stream?: { data: number[] } };
    assertions?: { assertion: string; error?: unknown }[];
  }[];
}

function urlOf(url: NewmanRun['executions'][number]['request']['url']): string {
  const query = (url.query ?? []).map((q) => `${q.key}=${q.value}`).join('&');
  return `/${(url.path ?? []).join('/')}${query ? `?${query}` : ''}`;
}

function runNewman(tenantUrl: string, token: string, report: string): number {
  const url = new URL(tenantUrl);
  const result = spawnSync(
    process.execPath,
    [
      NEWMAN,
      'run',
      COLLECTION,
      '--env-var',
      `Protocol=${url.protocol.replace(':', '')}`,
      '--env-var',
      `Server=${url.hostname}`,
      '--env-var',
      `Port=${url.port ? `:${url.port}` : ''}`,
      '--env-var',
      `Api=${url.pathname.replace(/^\/+|\/+$/g, '')}`,
      '--env-var',
      `token=${token}`,
      '--reporters',
      'cli,json',
      '--reporter-json-export',
      report,
      '--color',
      'off',
    ],
    { stdio: 'inherit', cwd: REPO },
  );
  if (existsSync(report)) {
    const run = (JSON.parse(readFileSync(report, 'utf8')) as { run: NewmanRun }).run;
    // What the endpoint answered where an assertion failed, so a failure can be read without a second run.
    for (const execution of run.executions) {
      if (!execution.assertions?.some((a) => a.error)) continue;
      const body = Buffer.from(execution.response?.stream?.data ?? []).toString('utf8');
      console.log(
        `✗ ${execution.item.name}: ${execution.request.method} ${urlOf(execution.request.url)} → ` +
          `${execution.response?.code ?? 'no answer'} ${body.slice(0, 400)}`,
      );
    }
    const { assertions, requests } = run.stats;
    console.log(
      `\nSCIM conformance: ${requests.total} requests, ${assertions.total - assertions.failed} assertions passed, ` +
        `${assertions.failed} failed`,
    );
  }
  return result.status ?? 1;
}

async function main(dir: string): Promise<number> {
  if (process.env.SCIM_TENANT_URL && process.env.SCIM_TOKEN) {
    return runNewman(process.env.SCIM_TENANT_URL, process.env.SCIM_TOKEN, join(dir, 'newman.json'));
  }
  for (const file of [SERVICE, LAUNCHER]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  }
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH ?? '',
    DATA_DIR: join(dir, 'data'),
    PORT: String(port),
    APP_BASE_URL: baseUrl,
  };
  // npm start's own command line, with a fresh DATA_DIR; its log goes to a file unless it fails.
  const service = spawn(process.execPath, [LAUNCHER, SERVICE], {
    cwd: REPO,
    env: { ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await ready(baseUrl, service);
    const session = await signIn(baseUrl, 'adele@contoso.com');
    const me = (await (
      await fetch(`${baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${session}` } })
    ).json()) as { organizationId: string };
    await setPlanWithCli(me.organizationId, env);
    const { tenantUrl, token } = await createScimToken(baseUrl, session, 'SCIM conformance');
    console.log(
      `organization ${me.organizationId} on Enterprise; running the collection against ${tenantUrl}`,
    );
    return runNewman(tenantUrl, token, join(dir, 'newman.json'));
  } finally {
    if (service.exitCode === null) {
      const exited = new Promise((r) => service.once('exit', r));
      service.kill('SIGTERM');
      await exited;
    }
  }
}

if (!process.env.CONFORMANCE_DIR) {
  // The launcher makes the emulator's CA in DATA_DIR/emulator; this process must trust it for the sign-in, and
  // NODE_EXTRA_CA_CERTS is read at start only: make the CA first, then run again with it set.
  const dir = mkdtempSync(join(tmpdir(), 'scim-conformance-'));
  chmodSync(dir, 0o755); // as root, the embedded PostgreSQL runs as `postgres` and must enter it
  try {
    const certificates = await ensureCertificates(join(dir, 'data', 'emulator'));
    const result = spawnSync(process.execPath, process.argv.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certificates.caPath, CONFORMANCE_DIR: dir },
    });
    process.exitCode = result.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  main(process.env.CONFORMANCE_DIR).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
