import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCertificates } from './certificates.js';
import { DEMO } from './fixture.js';
import type { CycleReport, Exchange } from './provisioning-jobs.js';
import { startEntraEmulator, type EntraEmulator } from './server.js';

const USAGE = `usage: npm run emulator -- provision --tenant-url <Tenant URL> --token <Secret Token>
         [--tenant contoso.com] [--app <client id>] [--interval <seconds>] [--concurrency <n>]
         [--external-id mailNickname|objectId]

Pushes the users and groups assigned to the app in the emulator's directory to a SCIM endpoint, as the Entra
provisioning service does: Test Connection, then a cycle (the initial one, or an incremental one when this
Tenant URL was provisioned before). --interval keeps cycling every N seconds until Ctrl-C. Uses the emulator
that npm start runs on this DATA_DIR, or starts one on its saved state for the command alone.`;

interface JobView {
  id: string;
  status: string;
  config: { tenantUrl: string; tenantId: string; clientId: string };
  escrow: { objectType: string; sourceId: string; attempts: number; lastError: string }[];
}

/** The emulator's control API over HTTPS, trusting its CA explicitly (NODE_EXTRA_CA_CERTS is read at start). */
function control(baseUrl: string, ca: string) {
  return <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> =>
    new Promise((done, fail) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${baseUrl}/_emulator${path}`,
        {
          method,
          ca,
          headers: text
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }
            : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            done({ status: res.statusCode ?? 0, body: (raw ? JSON.parse(raw) : undefined) as T });
          });
        },
      );
      req.on('error', fail);
      if (text) req.write(text);
      req.end();
    });
}

function summary(report: CycleReport): string {
  const counts = [
    ['users created', report.usersCreated],
    ['users matched', report.usersMatched],
    ['users updated', report.usersUpdated],
    ['users disabled', report.usersDisabled],
    ['users deleted', report.usersDeleted],
    ['groups created', report.groupsCreated],
    ['groups matched', report.groupsMatched],
    ['groups updated', report.groupsUpdated],
    ['groups deleted', report.groupsDeleted],
    ['members added', report.membersAdded],
    ['members removed', report.membersRemoved],
  ]
    .filter(([, n]) => Number(n) > 0)
    .map(([name, n]) => `${n} ${name}`);
  return (
    `cycle ${report.number} (${report.kind}): ${report.requests} requests in ${report.durationMs} ms; ` +
    `${counts.length ? counts.join(', ') : 'nothing to change'}; ${report.failed} failed, ${report.escrowed} in escrow`
  );
}

export async function provisionCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'tenant-url': { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string', default: DEMO.tenants.contoso.defaultDomain },
      app: { type: 'string', default: DEMO.client.clientId },
      interval: { type: 'string' },
      concurrency: { type: 'string' },
      'external-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values['tenant-url'] || !values.token) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const interval = values.interval === undefined ? undefined : Number(values.interval);
  if (interval !== undefined && !(interval > 0))
    throw new Error('--interval must be a positive number of seconds');

  const dataDir = resolve(process.env.DATA_DIR ?? './.data');
  const stateFile = join(dataDir, 'emulator', 'state.json');
  const certs = await ensureCertificates(join(dataDir, 'emulator'));
  let local: EntraEmulator | undefined;
  let api = await runningEmulator(stateFile, certs.ca);
  if (!api) {
    local = await startEntraEmulator({ stateFile, tls: certs, logger: () => undefined });
    api = control(local.url, certs.ca);
    console.log(`(no emulator is running on ${dataDir}: started one on its saved state for this command)`);
  }
  try {
    return await provision(api, {
      tenantUrl: values['tenant-url'],
      token: values.token,
      tenant: values.tenant,
      app: values.app,
      interval,
      concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
      externalId: values['external-id'],
    });
  } finally {
    await local?.close();
  }
}

async function runningEmulator(
  stateFile: string,
  ca: string,
): Promise<ReturnType<typeof control> | undefined> {
  if (!existsSync(stateFile)) return undefined;
  const port = (JSON.parse(readFileSync(stateFile, 'utf8')) as { port?: unknown }).port;
  if (typeof port !== 'number') return undefined;
  const api = control(`https://127.0.0.1:${port}`, ca);
  try {
    const probe = await api('GET', '/assignments');
    return probe.status === 200 ? api : undefined;
  } catch {
    return undefined;
  }
}

async function provision(
  api: ReturnType<typeof control>,
  o: {
    tenantUrl: string;
    token: string;
    tenant: string;
    app: string;
    interval?: number;
    concurrency?: number;
    externalId?: string;
  },
): Promise<number> {
  const jobs = await api<JobView[]>('GET', '/provisioning/jobs');
  // One job per app and Tenant URL, as in Entra: running the command again continues it incrementally.
  let job = jobs.body.find((j) => j.config.tenantUrl === o.tenantUrl && j.config.clientId === o.app);
  if (job) {
    await api('PATCH', `/provisioning/jobs/${job.id}`, { token: o.token, status: 'on' });
  } else {
    const created = await api<{ job: JobView; error?: string }>('POST', '/provisioning/jobs', {
      tenantUrl: o.tenantUrl,
      token: o.token,
      tenantId: o.tenant,
      clientId: o.app,
      concurrency: o.concurrency,
      userExternalId: o.externalId,
    });
    if (created.status !== 201)
      throw new Error((created.body as { error?: string }).error ?? 'could not create the job');
    job = created.body.job;
  }
  const test = await api<CycleReport>('POST', `/provisioning/jobs/${job.id}/test-connection`);
  if (!test.body.ok) {
    console.error(`Test Connection failed: ${test.body.error} (${o.tenantUrl})`);
    return 1;
  }
  console.log(`Test Connection: ok (${o.tenantUrl})`);
  let failed = false;
  for (;;) {
    const cycle = await api<CycleReport & { error?: string }>('POST', `/provisioning/jobs/${job.id}/cycles`);
    if (cycle.status !== 200) throw new Error(cycle.body.error ?? `the cycle answered ${cycle.status}`);
    console.log(summary(cycle.body));
    const state = await api<JobView>('GET', `/provisioning/jobs/${job.id}`);
    for (const e of state.body.escrow) {
      console.log(`  in escrow: ${e.objectType} ${e.sourceId} (${e.attempts} attempts): ${e.lastError}`);
    }
    if (cycle.body.failed > 0) {
      const log = await api<Exchange[]>('GET', `/provisioning/jobs/${job.id}/log?cycle=${cycle.body.number}`);
      for (const e of log.body.filter((x) => x.status < 200 || x.status >= 300).slice(0, 10)) {
        console.log(
          `  ${e.method} ${e.url} → ${e.status || 'no answer'} ${JSON.stringify(e.responseBody ?? '')}`,
        );
      }
    }
    failed = cycle.body.failed > 0;
    if (o.interval === undefined) break;
    await new Promise((r) => setTimeout(r, o.interval! * 1000));
  }
  return failed ? 1 : 0;
}
