import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../common/domain-error.js';
import { INTEGRATIONS_ERRORS } from './integrations.errors.js';
import { type AppConfig, type Keyring, parseKeyring } from '../config/config.js';

const VERSION = 'v1';
const IV_BYTES = 12;
/** GCM's full tag. Node would otherwise verify a tag truncated to as little as 4 bytes. */
const TAG_BYTES = 16;

/**
 * A stored token that cannot be decrypted: its key left the keyring, or the data was damaged or tampered
 * with. The client learns only that the tenant must be connected again; `keyId` and `reason` are for logs.
 */
export class TokenDecryptionError extends DomainError {
  static readonly definition = INTEGRATIONS_ERRORS.ENTRA_CREDENTIALS_UNREADABLE;
  constructor(
    readonly reason: string,
    readonly keyId: string | null,
  ) {
    super(TokenDecryptionError.definition);
    this.name = 'TokenDecryptionError';
  }
}

/**
 * AES-256-GCM for secrets at rest (refresh and access tokens). A ciphertext reads
 * `v1.<keyId>.<iv>.<tag>.<data>` (base64url), so it names the key that decrypts it and rotation can happen
 * key by key. The associated data binds a ciphertext to its row: copied elsewhere, it does not decrypt.
 */
export class TokenCipher {
  constructor(private readonly keyring: Keyring) {}

  get currentKeyId(): string {
    return this.keyring.currentKeyId;
  }

  encrypt(plaintext: string, associatedData: string): string {
    const keyId = this.keyring.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyring.keys.get(keyId)!, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url'));
    return [VERSION, keyId, ...parts].join('.');
  }

  decrypt(ciphertext: string, associatedData: string): string {
    const [version, keyId, iv, tag, data] = ciphertext.split('.');
    if (version !== VERSION || data === undefined) throw new TokenDecryptionError('unknown format', null);
    const key = this.keyring.keys.get(keyId);
    if (!key) throw new TokenDecryptionError('the key is not in TOKEN_ENCRYPTION_KEYS', keyId);
    const authTag = Buffer.from(tag, 'base64url');
    if (authTag.length !== TAG_BYTES)
      throw new TokenDecryptionError(`the authentication tag is ${authTag.length} bytes, not 16`, keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new TokenDecryptionError('authentication failed (wrong key or tampered data)', keyId);
    }
  }

  /** Whether a ciphertext was written under an older key than the current one. */
  isStale(ciphertext: string): boolean {
    return ciphertext.split('.')[1] !== this.keyring.currentKeyId;
  }
}

/**
 * The configured keyring, or outside production a development key generated once into DATA_DIR (config
 * refuses to boot in production without TOKEN_ENCRYPTION_KEYS).
 */
export function resolveKeyring(config: AppConfig): Keyring {
  if (config.tokenEncryptionKeys) return config.tokenEncryptionKeys;
  if (config.nodeEnv === 'production') throw new Error('TOKEN_ENCRYPTION_KEYS is required in production');
  const file = join(config.dataDir, 'token-encryption-keys');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `dev:${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const parsed = parseKeyring(readFileSync(file, 'utf8').trim());
  if (typeof parsed === 'string') throw new Error(`${file} is invalid: ${parsed}`);
  return parsed;
}
