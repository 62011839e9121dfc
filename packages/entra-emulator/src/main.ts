import { resolve } from 'node:path';
import { ensureCertificates } from './certificates.js';
import { DEMO } from './fixture.js';
import { provisionCli } from './provision-cli.js';
import { EmulatorPortInUseError, startEntraEmulator } from './server.js';

/** Standalone emulator for manual runs: `npm run emulator` (`node packages/entra-emulator/dist/main.js`). */
async function main(): Promise<void> {
  const dataDir = resolve(process.env.DATA_DIR ?? './.data');
  const certs = await ensureCertificates(resolve(dataDir, 'emulator'));
  const port = Number(process.env.EMULATOR_PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid EMULATOR_PORT '${port}'`);
  const emulator = await startEntraEmulator({
    port,
    // The same port and state as `npm start` on this DATA_DIR (one of them runs at a time).
    stateFile: resolve(dataDir, 'emulator', 'state.json'),
    tls: certs,
    logger: process.env.EMULATOR_QUIET ? undefined : (line) => console.log(`[entra-emulator] ${line}`),
  });
  const users = Object.values(DEMO.users).map((u) => `    ${u.upn.padEnd(52)} ${u.displayName}`);
  console.log(
    [
      `Entra ID emulator listening on ${emulator.url}`,
      `  ENTRA_AUTHORITY_HOST=${emulator.authorityHost}`,
      `  GRAPH_BASE_URL=${emulator.graphBaseUrl}`,
      `  NODE_EXTRA_CA_CERTS=${certs.caPath}`,
      `  client id:     ${DEMO.client.clientId}`,
      `  redirect URIs: ${DEMO.client.redirectUris.join(', ')}`,
      `  login hints:`,
      ...users,
      `  control API:   ${emulator.url}/_emulator/state`,
    ].join('\n'),
  );
  const stop = () => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[2] === 'provision') {
  // `npm run emulator -- provision …`: the simulated Entra provisioning service pushes to a SCIM endpoint.
  provisionCli(process.argv.slice(3)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err instanceof EmulatorPortInUseError ? err.message : err);
    process.exit(1);
  });
}
