import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { SignatureMode } from './types.js';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface PublishedJwk {
  kty: 'RSA';
  use: 'sig';
  kid: string;
  n: string;
  e: string;
  issuer: string;
}

const RSA_OPTIONS = { modulusLength: 2048 } as const;
/** Keys generated ahead for rotations and foreign-key signatures, so those rarely wait for RSA. */
const SPARE_KEYS = 1;

function toSigningKey(publicKey: KeyObject, privateKey: KeyObject): SigningKey {
  // Microsoft's kids are base64url SHA-1 thumbprints (27 chars); keep the same shape.
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha1').update(der).digest('base64url');
  return { kid, privateKey, publicKey };
}

function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', RSA_OPTIONS);
  return toSigningKey(publicKey, privateKey);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * The published signing keys. The newest key signs; older keys stay published so tokens issued before a
 * rotation still verify, the way Entra overlaps its keys.
 */
export class KeyRing {
  private keys: SigningKey[];
  private foreign: SigningKey | null = null;
  private spares: SigningKey[] = [];
  private sparesPending = 0;

  /** `saved`: PKCS#8 PEM private keys, oldest first, as `exportKeys()` gave them (the newest signs). */
  constructor(saved?: readonly string[]) {
    this.keys = saved?.length
      ? saved.map((pem) => {
          const privateKey = createPrivateKey(pem);
          return toSigningKey(createPublicKey(privateKey), privateKey);
        })
      : [generateSigningKey()];
    this.refillSpares();
  }

  /** The published keys, oldest first, as PKCS#8 PEM: secrets, for the emulator's own 0600 state file only. */
  exportKeys(): string[] {
    return this.keys.map((k) => String(k.privateKey.export({ type: 'pkcs8', format: 'pem' })));
  }

  /** RSA generation costs a few hundred ms of CPU; it runs on the libuv pool, off the event loop. */
  private refillSpares(): void {
    while (this.spares.length + this.sparesPending < SPARE_KEYS) {
      this.sparesPending++;
      generateKeyPair('rsa', RSA_OPTIONS, (err, publicKey, privateKey) => {
        this.sparesPending--;
        if (!err) this.spares.push(toSigningKey(publicKey, privateKey));
      });
    }
  }

  private takeSpare(): SigningKey {
    const key = this.spares.shift() ?? generateSigningKey();
    this.refillSpares();
    return key;
  }

  get current(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  rotate(options: { dropOld?: boolean } = {}): SigningKey {
    const key = this.takeSpare();
    this.keys = options.dropOld ? [key] : [...this.keys, key];
    return key;
  }

  find(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  jwks(issuer: string): { keys: PublishedJwk[] } {
    return {
      // Newest first, as a cache that only looks at the head should still find the current key.
      keys: [...this.keys].reverse().map((k) => {
        const jwk = k.publicKey.export({ format: 'jwk' });
        return { kty: 'RSA', use: 'sig', kid: k.kid, n: String(jwk.n), e: String(jwk.e), issuer };
      }),
    };
  }

  /**
   * Signs an RS256 JWT. `foreign-key` signs with a key that is never published (under a kid of the
   * right shape); `tampered` signs `payload` and then swaps in `tamperedPayload`.
   */
  signJwt(
    payload: Record<string, unknown>,
    mode: SignatureMode = 'valid',
    tamperedPayload?: Record<string, unknown>,
  ): string {
    let key = this.current;
    let kid = key.kid;
    if (mode === 'foreign-key') {
      this.foreign ??= this.takeSpare();
      key = this.foreign;
      kid = randomBytes(20).toString('base64url');
    }
    const header = b64url({ typ: 'JWT', alg: 'RS256', kid });
    const body = b64url(payload);
    const signature = sign('sha256', Buffer.from(`${header}.${body}`), key.privateKey).toString('base64url');
    const shownBody =
      mode === 'tampered' ? b64url(tamperedPayload ?? { ...payload, name: 'Tampered' }) : body;
    return `${header}.${shownBody}.${signature}`;
  }
}
