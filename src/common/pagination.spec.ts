import { describe, expect, it } from 'vitest';
import { decodeCursor, decodeSequenceCursor, encodeCursor, encodeSequenceCursor } from './pagination.js';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const id = '3f0c7b1e-2a55-4a6b-9c1d-8f1e2d3c4b5a';

describe('decodeCursor', () => {
  it('reads back what encodeCursor wrote', () => {
    const cursor = encodeCursor({ createdAt: new Date('2026-03-04T05:06:07.089Z'), id });
    expect(decodeCursor(cursor)).toEqual({ createdAt: '2026-03-04T05:06:07.089Z', id });
    expect(decodeCursor(undefined)).toBeNull();
  });

  it.each([
    ['a non-UUID id', { createdAt: '2026-01-01T00:00:00.000Z', id: 'abc' }],
    ['a NUL in the id', { createdAt: '2026-01-01T00:00:00.000Z', id: `${id}\u0000` }],
    ['the timestamp "1"', { createdAt: '1', id }],
    ['a NUL in the timestamp', { createdAt: '2026-01-01T00:00:00.000Z\u0000', id }],
    ['an impossible date', { createdAt: '2026-02-31T00:00:00.000Z', id }],
    ['a six-digit year', { createdAt: '+275760-09-13T00:00:00.000Z', id }],
    ['numbers', { createdAt: 1, id: 2 }],
    ['an array', [1, 2]],
  ])('refuses a cursor with %s as INVALID_CURSOR', (_name, payload) => {
    expect(() => decodeCursor(b64(payload))).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR' }));
  });

  it('refuses text that is not a cursor at all', () => {
    for (const cursor of ['!!!', '\u0000', b64('null'), b64('not json')]) {
      expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR' }));
    }
  });
});

describe('decodeSequenceCursor', () => {
  it('reads back what encodeSequenceCursor wrote, up to the largest bigint', () => {
    expect(decodeSequenceCursor(encodeSequenceCursor('42'))).toBe('42');
    expect(decodeSequenceCursor(b64('9223372036854775807'))).toBe('9223372036854775807');
  });

  it('refuses sequence numbers PostgreSQL cannot hold, and anything not a number', () => {
    for (const text of ['9223372036854775808', '9999999999999999999', '-1', '1\u0000', '', '1e3']) {
      expect(() => decodeSequenceCursor(b64(text))).toThrow(
        expect.objectContaining({ code: 'INVALID_CURSOR' }),
      );
    }
  });
});
