import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AppConfig } from '../config/config.js';

/**
 * Development only (never reached in production: config refuses to boot without Entra settings there).
 * Starts the bundled Entra emulator on loopback, then runs the real service as a child process configured to
 * reach it exactly as it would reach Microsoft: through ENTRA_* / GRAPH_BASE_URL and a CA trusted via
 * NODE_EXTRA_CA_CERTS, which Node reads only at process start — hence the child process.
 */
export async function runWithDevEmulator(config: AppConfig): Promise<void> {
  const { startEntraEmulator, ensureCertificates, DEMO } = await import('../../test/emulator/index.js');

  const certificates = await ensureCertificates(join(config.dataDir, 'emulator'));
  const redirectUris = ['/auth/microsoft/callback', '/auth/microsoft/connect/callback'].map(
    (path) => `${config.appBaseUrl}${path}`,
  );
  const emulator = await startEntraEmulator({
    tls: { cert: certificates.cert, key: certificates.key },
    clients: [{ ...DEMO.client, redirectUris }],
  });

  const users = Object.values(DEMO.users)
    .map(
      (u) =>
        `    ${u.upn.padEnd(48)} ${config.appBaseUrl}/auth/microsoft/login?login_hint=${encodeURIComponent(u.upn)}`,
    )
    .join('\n');
  console.warn(
    [
      '',
      '='.repeat(100),
      '  DEVELOPMENT MODE: ENTRA_CLIENT_ID is not set, so sign-in goes to the BUNDLED ENTRA EMULATOR, not Microsoft.',
      `  Emulator: ${emulator.url}  (HTTPS, CA certificate: ${certificates.caPath})`,
      `  Demo tenants: Contoso (contoso.com), Fabrikam (fabrikam.com). Sign in as one of:`,
      users,
      '  (the personal account and the disabled user are there to show refusals)',
      '  Your browser will warn about the emulator certificate unless you trust the CA above.',
      '  Set ENTRA_CLIENT_ID / ENTRA_CLIENT_SECRET for a real tenant; NODE_ENV=production forbids this mode.',
      '='.repeat(100),
      '',
    ].join('\n'),
  );

  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]], {
    stdio: 'inherit',
    env: {
      ...process.env,
      ENTRA_CLIENT_ID: DEMO.client.clientId,
      ENTRA_CLIENT_SECRET: DEMO.client.clientSecret,
      ENTRA_AUTHORITY_HOST: emulator.authorityHost,
      GRAPH_BASE_URL: emulator.graphBaseUrl,
      NODE_EXTRA_CA_CERTS: certificates.caPath,
    },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) =>
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))),
  );
  await emulator.close();
  process.exit(code);
}
