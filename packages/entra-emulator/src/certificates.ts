import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';

export interface CertificateBundle {
  caPath: string;
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  ca: string;
}

const DAY_MS = 24 * 3600 * 1000;
const RENEW_BEFORE_MS = 30 * DAY_MS;
const STALE_LOCK_MS = 30_000;

function paths(dir: string) {
  return { caPath: join(dir, 'ca.pem'), certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') };
}

/** The files only count when they form one consistent, long-enough-lived set. */
async function readValid(dir: string): Promise<CertificateBundle | undefined> {
  const p = paths(dir);
  try {
    const [ca, cert, key] = await Promise.all([
      readFile(p.caPath, 'utf8'),
      readFile(p.certPath, 'utf8'),
      readFile(p.keyPath, 'utf8'),
    ]);
    const caCert = new X509Certificate(ca);
    const leaf = new X509Certificate(cert);
    const renewAt = Date.now() + RENEW_BEFORE_MS;
    const fresh = [caCert, leaf].every((c) => new Date(c.validTo).getTime() > renewAt);
    const consistent =
      leaf.checkIssued(caCert) &&
      leaf.verify(caCert.publicKey) &&
      leaf.checkPrivateKey(createPrivateKey(key)) &&
      leaf.checkIP('127.0.0.1') !== undefined;
    return fresh && consistent ? { ...p, ca, cert, key } : undefined;
  } catch {
    return undefined;
  }
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}

/** mkdir is atomic, so the directory doubles as a cross-process lock. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(dir, '.lock');
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // A holder that died (SIGKILL) would otherwise block everybody forever.
      if (age > STALE_LOCK_MS) await rmdir(lock).catch(() => undefined);
      else await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

const generateRsa = promisify(generateKeyPair);

async function generateBundle(): Promise<{ ca: string; cert: string; key: string }> {
  const now = Date.now();
  // The leaf key is generated alongside the CA's instead of after it: both are CPU-heavy.
  const leafKey = generateRsa('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const ca = await generate([{ name: 'commonName', value: 'Entra Emulator Local CA' }], {
    algorithm: 'sha256',
    keySize: 2048,
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 5 * 365 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    algorithm: 'sha256',
    keySize: 2048,
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 365 * DAY_MS),
    keyPair: await leafKey,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  // The CA key is dropped on purpose: nothing needs to sign with it again, and it cannot leak.
  return { ca: ca.cert, cert: leaf.cert, key: leaf.private };
}

/**
 * A local CA plus a leaf for localhost/127.0.0.1/::1 in `dir`, generated once and reused until 30 days
 * before expiry. Point NODE_EXTRA_CA_CERTS at `caPath` so fetch/https trust the emulator.
 */
export async function ensureCertificates(dir: string): Promise<CertificateBundle> {
  await mkdir(dir, { recursive: true });
  const existing = await readValid(dir);
  if (existing) return existing;
  return withLock(dir, async () => {
    const again = await readValid(dir);
    if (again) return again;
    const fresh = await generateBundle();
    const p = paths(dir);
    await writeAtomically(p.keyPath, fresh.key, 0o600);
    await writeAtomically(p.certPath, fresh.cert, 0o644);
    await writeAtomically(p.caPath, fresh.ca, 0o644);
    return { ...p, ...fresh };
  });
}
