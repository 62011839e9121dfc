// The Entra emulator in a container, for docker/compose.yaml's `emulator` profile (never the service image).
// The emulator listens on 127.0.0.1 only and names itself https://127.0.0.1:PORT in discovery, tokens and
// redirects; the API container shares this container's network namespace, so that address is the same for it, and
// the browser reaches it through the published port. A published port arrives on the container's own addresses,
// so each of them forwards PORT to the loopback listener.
import { createConnection, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { DEMO, ensureCertificates, startEntraEmulator } from '@entra-integration/entra-emulator';

const port = Number(process.env.EMULATOR_PORT ?? 8443);
if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid EMULATOR_PORT '${port}'`);
const appBaseUrl = (process.env.APP_BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const dir = join(resolve(process.env.DATA_DIR ?? '/data'), 'emulator');
const certificates = await ensureCertificates(dir);
const emulator = await startEntraEmulator({
  port,
  // Tenants, grants and refresh tokens survive a restart of the container (the volume), as with `npm start`.
  stateFile: join(dir, 'state.json'),
  tls: { cert: certificates.cert, key: certificates.key },
  clients: [
    {
      ...DEMO.client,
      redirectUris: ['/auth/microsoft/callback', '/auth/microsoft/connect/callback'].map(
        (p) => appBaseUrl + p,
      ),
    },
  ],
  logger: (line) => console.log(`[entra-emulator] ${line}`),
});

const forwarders = [];
for (const addresses of Object.values(networkInterfaces())) {
  for (const { address, internal } of addresses ?? []) {
    if (internal) continue;
    const server = createServer((socket) => {
      const upstream = createConnection({ host: '127.0.0.1', port });
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    server.on('error', (error) =>
      console.error(`[entra-emulator] cannot forward ${address}:${port}: ${error.message}`),
    );
    server.listen(port, address);
    forwarders.push(server);
  }
}

console.log(
  [
    `Entra emulator on ${emulator.url} (CA certificate: ${certificates.caPath}); demo client ${DEMO.client.clientId}`,
    `Sign in at ${appBaseUrl}/auth/microsoft/login?login_hint=<one of>:`,
    ...Object.values(DEMO.users).map((u) => `    ${u.upn.padEnd(48)} ${u.displayName}`),
  ].join('\n'),
);

const stop = () => {
  for (const server of forwarders) server.close();
  void emulator.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
