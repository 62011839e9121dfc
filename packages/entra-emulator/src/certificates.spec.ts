import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCertificates } from './certificates.js';
import { startEntraEmulator } from './server.js';

describe('ensureCertificates', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'entra-emulator-certs-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates one CA-signed leaf for localhost, 127.0.0.1 and ::1, even when called concurrently', async () => {
    const bundles = await Promise.all([
      ensureCertificates(dir),
      ensureCertificates(dir),
      ensureCertificates(dir),
    ]);
    expect(new Set(bundles.map((b) => b.cert)).size).toBe(1);
    const [bundle] = bundles;
    expect(await readFile(bundle.caPath, 'utf8')).toBe(bundle.ca);
    expect(await readFile(bundle.certPath, 'utf8')).toBe(bundle.cert);
    expect((await stat(bundle.keyPath)).mode & 0o777).toBe(0o600);

    const ca = new X509Certificate(bundle.ca);
    const leaf = new X509Certificate(bundle.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  });

  it('reuses valid files and replaces an inconsistent set', async () => {
    const first = await ensureCertificates(dir);
    expect((await ensureCertificates(dir)).cert).toBe(first.cert);
    await writeFile(join(dir, 'key.pem'), 'garbage');
    const replaced = await ensureCertificates(dir);
    expect(replaced.cert).not.toBe(first.cert);
    expect(await readFile(replaced.keyPath, 'utf8')).toBe(replaced.key);
  });

  it('is trusted by fetch in a process started with NODE_EXTRA_CA_CERTS', async () => {
    const certs = await ensureCertificates(dir);
    const emulator = await startEntraEmulator({ tls: certs });
    try {
      const script = `fetch(process.argv[1]).then(async (r) => console.log(r.status, (await r.json()).issuer))`;
      const url = `${emulator.url}/organizations/v2.0/.well-known/openid-configuration`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, url], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.caPath },
      });
      expect(stdout.trim()).toBe(`200 ${emulator.url}/{tenantid}/v2.0`);
    } finally {
      await emulator.close();
    }
  });
});
