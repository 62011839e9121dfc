import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { ensureCertificates } from './certificates.js';
import { DEMO } from './fixture.js';
import { startEntraEmulator, type EntraEmulator } from './server.js';

/**
 * The development launcher behind `npm start`: `node start-with-emulator.js <service entry.js> [args...]`.
 *
 * With no `ENTRA_CLIENT_ID` (and outside production) it starts the bundled Entra emulator on loopback, then
 * runs the real service as a child process configured to reach it exactly as it would reach Microsoft:
 * through ENTRA_* / GRAPH_BASE_URL and a CA trusted via NODE_EXTRA_CA_CERTS, which Node reads only at process
 * start — hence the child process. Otherwise it runs the service unchanged, so `npm start` works for a real
 * tenant too. The service itself never imports this package.
 *
 * The emulator keeps its port and state in DATA_DIR/emulator/ (see persistence.ts), so after a restart the
 * service's configuration, its stored refresh tokens and delta links still point at a live emulator that
 * knows them. EMULATOR_PORT picks the port instead of the saved one.
 */
const REDIRECT_PATHS = [
  '/auth/microsoft/callback',
  '/auth/microsoft/connect/callback',
  '/auth/microsoft/assignment/callback',
];

type Env = Record<string, string | undefined>;

/** Empty strings count as unset, as the service's own configuration reads them. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

async function main(): Promise<void> {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) throw new Error('usage: start-with-emulator <service entry.js> [args...]');
  const env = process.env;

  let emulator: EntraEmulator | undefined;
  let childEnv: Env = env;
  // In production the service refuses to run without Entra settings; it says so itself.
  if (!read(env, 'ENTRA_CLIENT_ID') && read(env, 'NODE_ENV') !== 'production') {
    const appBaseUrl = (read(env, 'APP_BASE_URL') ?? `http://localhost:${read(env, 'PORT') ?? 3000}`).replace(
      /\/+$/,
      '',
    );
    const dataDir = resolve(read(env, 'DATA_DIR') ?? './.data');
    const certificates = await ensureCertificates(join(dataDir, 'emulator'));
    emulator = await startEntraEmulator({
      port: emulatorPort(read(env, 'EMULATOR_PORT')),
      stateFile: join(dataDir, 'emulator', 'state.json'),
      tls: { cert: certificates.cert, key: certificates.key },
      clients: [{ ...DEMO.client, redirectUris: REDIRECT_PATHS.map((path) => `${appBaseUrl}${path}`) }],
    });
    printBanner(emulator, certificates.caPath, appBaseUrl);
    childEnv = {
      ...env,
      ENTRA_CLIENT_ID: DEMO.client.clientId,
      ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
      ENTRA_AUTHORITY_HOST: emulator.authorityHost,
      GRAPH_BASE_URL: emulator.graphBaseUrl,
      NODE_EXTRA_CA_CERTS: certificates.caPath,
    };
  }

  // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and would reach the
  // service's embedded PostgreSQL too, which then ends every connection at once while the service is still
  // draining its requests. So the terminal's signals reach this launcher only, and it asks the service to stop
  // (one SIGTERM: a second signal would cut the graceful shutdown short); the service stops its database last.
  // The IPC channel lets the service notice this launcher going away for any reason (killed, crashed) and stop.
  const child = spawn(process.execPath, [...process.execArgv, entry, ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: childEnv,
    detached: true,
  });
  let forwarded = false;
  const forward = () => {
    if (forwarded) return;
    forwarded = true;
    child.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  const code = await new Promise<number>((done) => {
    child.on('error', (error) => {
      console.error(`could not start ${entry}: ${error.message}`);
      done(1);
    });
    child.on('exit', (exitCode, signal) => done(exitCode ?? (signal ? 1 : 0)));
  });
  await emulator?.close();
  process.exit(code);
}

/** 0 (the saved port, else a free one) when unset. */
function emulatorPort(value: string | undefined): number {
  const port = Number(value ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`EMULATOR_PORT must be a port number (1-65535), not '${value}'`);
  }
  return port;
}

function printBanner(emulator: EntraEmulator, caPath: string, appBaseUrl: string): void {
  const users = Object.values(DEMO.users)
    .map(
      (u) =>
        `    ${u.upn.padEnd(48)} ${appBaseUrl}/auth/microsoft/login?login_hint=${encodeURIComponent(u.upn)}`,
    )
    .join('\n');
  console.warn(
    [
      '',
      '='.repeat(100),
      '  DEVELOPMENT MODE: ENTRA_CLIENT_ID is not set, so sign-in goes to the BUNDLED ENTRA EMULATOR, not Microsoft.',
      `  Emulator: ${emulator.url}  (HTTPS, CA certificate: ${caPath}; port and state kept in ${dirname(caPath)})`,
      `  Demo tenants: Contoso (contoso.com), Fabrikam (fabrikam.com). Sign in as one of:`,
      users,
      '  (the personal account and the disabled user are there to show refusals)',
      '  Your browser will warn about the emulator certificate unless you trust the CA above.',
      '  Set ENTRA_CLIENT_ID / ENTRA_CLIENT_SECRET for a real tenant; NODE_ENV=production forbids this mode.',
      '='.repeat(100),
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(
    'fatal: the development launcher could not start:',
    error instanceof Error ? error.message : error,
  );
  process.exit(1);
});
