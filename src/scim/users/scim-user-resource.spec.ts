import { describe, expect, it } from 'vitest';
import { SCHEMAS, ScimError } from '../protocol/index.js';
import { etagMatches, normalizeUser, toUserResource, withoutSecrets } from './scim-user-resource.js';

describe('normalizeUser', () => {
  it('takes the primary email, else the work one, else the userName, and the display name from name', () => {
    expect(
      normalizeUser({
        userName: 'Ada@Contoso.com',
        emails: [
          { value: 'home@example.com', type: 'home' },
          { value: 'Work@Contoso.com', type: 'work' },
        ],
        name: { givenName: 'Ada', familyName: 'Lovelace' },
      }),
    ).toMatchObject({
      email: 'work@contoso.com',
      displayName: 'Ada Lovelace',
      userNameLower: 'ada@contoso.com',
      emailsLower: ['home@example.com', 'work@contoso.com'],
      active: true,
      displayNameLower: null,
    });
    expect(
      normalizeUser({ userName: 'x', emails: [{ value: 'a@b.c' }, { value: 'P@b.c', primary: 'True' }] })
        .email,
    ).toBe('p@b.c');
    expect(normalizeUser({ userName: 'Only.Name@contoso.com' })).toMatchObject({
      email: 'only.name@contoso.com',
      displayName: 'Only.Name@contoso.com',
    });
  });

  it('reads attribute names in any case and "False" as false, and drops secrets and server-owned attributes', () => {
    const user = normalizeUser({
      USERNAME: 'u',
      Active: 'False',
      DisplayName: 'U',
      password: 'p',
      id: 'forged',
      meta: { version: 'W/"9"' },
      [SCHEMAS.PRODUCT_USER]: { role: 'owner' },
      [`${SCHEMAS.USER}:title`]: 'Clerk',
    });
    expect(user.active).toBe(false);
    expect(user.attributes).toEqual({
      schemas: [SCHEMAS.USER],
      userName: 'u',
      displayName: 'U',
      title: 'Clerk',
    });
  });

  it('refuses what is not a user with 400', () => {
    for (const bad of [
      null,
      [],
      'x',
      {},
      { userName: ' ' },
      { userName: 1 },
      { userName: 'u', active: 'yes' },
    ]) {
      expect(() => normalizeUser(bad)).toThrow(ScimError);
    }
    expect(() =>
      normalizeUser({
        userName: 'u',
        emails: [
          { value: 'a', primary: true },
          { value: 'b', primary: true },
        ],
      }),
    ).toThrow(/primary/);
  });
});

describe('resources and versions', () => {
  it('shows active from its column, our extension and meta; never a secret of the raw body', () => {
    const resource = toUserResource(
      {
        userId: 'id-1',
        attributes: { schemas: [SCHEMAS.USER], userName: 'u' },
        active: false,
        version: 3,
        createdAt: new Date('2026-01-01T00:00:00Z'),
        updatedAt: new Date('2026-01-02T00:00:00Z'),
      },
      { status: 'pending', pendingReason: 'awaiting_seat', role: 'employee' },
      'https://api.example.com/scim/v2',
    );
    expect(resource).toMatchObject({
      schemas: [SCHEMAS.USER, SCHEMAS.PRODUCT_USER],
      id: 'id-1',
      active: false,
      [SCHEMAS.PRODUCT_USER]: { status: 'pending', pendingReason: 'awaiting_seat', role: 'employee' },
      meta: { version: 'W/"3"', location: 'https://api.example.com/scim/v2/Users/id-1' },
    });
    expect(withoutSecrets({ userName: 'u', Password: 'p', nested: [{ password: 'q', ok: 1 }] })).toEqual({
      userName: 'u',
      nested: [{ ok: 1 }],
    });
  });

  it('matches If-Match and If-None-Match values, * included', () => {
    expect(etagMatches('W/"3"', 3)).toBe(true);
    expect(etagMatches('W/"2", W/"3"', 3)).toBe(true);
    expect(etagMatches('*', 7)).toBe(true);
    expect(etagMatches('W/"2"', 3)).toBe(false);
  });
});
