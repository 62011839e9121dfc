import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKeyring } from '../config/config.js';
import { TokenCipher, TokenDecryptionError } from './token-cipher.js';

const key = () => randomBytes(32).toString('base64');
const keyring = (value: string) => {
  const parsed = parseKeyring(value);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

describe('TokenCipher', () => {
  const k1 = key();
  const k2 = key();
  const old = new TokenCipher(keyring(`k1:${k1}`));
  const rotated = new TokenCipher(keyring(`k2:${k2},k1:${k1}`));

  it('round-trips and never contains the plaintext', () => {
    const ciphertext = old.encrypt('0.AXEA-refresh-token', 'org-1');
    expect(ciphertext).not.toContain('refresh');
    expect(ciphertext.startsWith('v1.k1.')).toBe(true);
    expect(old.decrypt(ciphertext, 'org-1')).toBe('0.AXEA-refresh-token');
  });

  it('uses a fresh IV each time', () => {
    expect(old.encrypt('same', 'org-1')).not.toBe(old.encrypt('same', 'org-1'));
  });

  it('decrypts old ciphertexts after a rotation and writes new ones under the first key', () => {
    const before = old.encrypt('secret', 'org-1');
    expect(rotated.isStale(before)).toBe(true);
    expect(rotated.decrypt(before, 'org-1')).toBe('secret');
    const after = rotated.encrypt('secret', 'org-1');
    expect(after.startsWith('v1.k2.')).toBe(true);
    expect(rotated.isStale(after)).toBe(false);
  });

  it('refuses a ciphertext moved to another row, tampered with, or under a retired key', () => {
    const ciphertext = old.encrypt('secret', 'org-1');
    expect(() => old.decrypt(ciphertext, 'org-2')).toThrow(TokenDecryptionError);
    const parts = ciphertext.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => old.decrypt(parts.join('.'), 'org-1')).toThrow(TokenDecryptionError);
    const retired = new TokenCipher(keyring(`k2:${k2}`));
    expect(() => retired.decrypt(ciphertext, 'org-1')).toThrow(
      expect.objectContaining({
        code: 'ENTRA_CREDENTIALS_UNREADABLE',
        keyId: 'k1',
        reason: 'the key is not in TOKEN_ENCRYPTION_KEYS',
      }),
    );
  });

  it('refuses an authentication tag truncated to 4 bytes, which GCM would otherwise verify', () => {
    const ciphertext = old.encrypt('secret', 'org-1');
    const parts = ciphertext.split('.');
    parts[3] = Buffer.from(parts[3], 'base64url').subarray(0, 4).toString('base64url');
    expect(() => old.decrypt(parts.join('.'), 'org-1')).toThrow(
      expect.objectContaining({ code: 'ENTRA_CREDENTIALS_UNREADABLE', keyId: 'k1' }),
    );
  });

  it('never names the key or the reason in what a client sees', () => {
    const error = (() => {
      try {
        new TokenCipher(keyring(`k2:${k2}`)).decrypt(old.encrypt('secret', 'org-1'), 'org-1');
      } catch (e) {
        return e as TokenDecryptionError;
      }
    })()!;
    expect(error.message).not.toContain('k1');
    expect(error.message).toMatch(/connect the tenant again/);
  });
});
