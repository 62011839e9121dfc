import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROLE } from './constants.js';
import { DEMO } from './fixture.js';
import {
  TEST_CLIENT,
  claims,
  fetchWithCa,
  signInForTokens,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

describe('ID token claims', () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator();
  });
  afterEach(() => t.emulator.store.reset());
  afterAll(() => t.emulator.close());

  const idToken = async (loginHint: string) => (await signInForTokens(t, { loginHint })).id_token!;
  /** Verifies like a relying party: JWKS from the emulator, template issuer with the token's tid. */
  const verify = async (token: string) => {
    const jwks = createRemoteJWKSet(new URL(`${t.emulator.url}/organizations/discovery/v2.0/keys`), {
      [customFetch]: fetchWithCa(t.ca),
      cooldownDuration: 0,
    });
    const { payload } = await jwtVerify(token, jwks, {
      audience: TEST_CLIENT.clientId,
      algorithms: ['RS256'],
    });
    if (payload.iss !== `${t.emulator.url}/${String(payload.tid)}/v2.0`) throw new Error('issuer mismatch');
    return payload;
  };

  it('describes a member: tid/oid, pairwise sub, roles, groups, verified email', async () => {
    const adele = claims(await idToken(DEMO.users.adele.upn));
    expect(adele).toMatchObject({
      ver: '2.0',
      tid: DEMO.tenants.contoso.id,
      oid: DEMO.users.adele.id,
      preferred_username: DEMO.users.adele.upn,
      name: DEMO.users.adele.displayName,
      email: DEMO.users.adele.upn,
      xms_edov: true,
      acct: 0,
      groups: [],
    });
    expect(adele.wids).toContain(ROLE.globalAdministrator);
    expect(adele.idp).toBeUndefined();
    expect(adele.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(adele.sub).not.toBe(adele.oid);
    expect(Number(adele.exp) - Number(adele.iat)).toBe(3600);

    const megan = claims(await idToken(DEMO.users.megan.upn));
    expect(megan.groups).toEqual([DEMO.groups.engineering.id]);
    expect(megan.wids).not.toContain(ROLE.globalAdministrator);
  });

  it('includes nested groups transitively', async () => {
    const { store } = t.emulator;
    const parent = store.addGroup({ tenantId: DEMO.tenants.contoso.id, displayName: 'All Staff' });
    store.addMember(parent.id, DEMO.groups.engineering.id);
    store.addMember(DEMO.groups.engineering.id, parent.id);
    const groups = claims(await idToken(DEMO.users.megan.upn)).groups as string[];
    expect(groups.sort()).toEqual([DEMO.groups.engineering.id, parent.id].sort());
  });

  it('marks guests: acct 1, idp of the home tenant, unverified email domain', async () => {
    const guest = claims(await idToken(DEMO.users.guest.upn));
    expect(guest).toMatchObject({
      tid: DEMO.tenants.contoso.id,
      oid: DEMO.users.guest.id,
      acct: 1,
      idp: `https://sts.windows.net/${DEMO.tenants.fabrikam.id}/`,
      email: DEMO.users.guest.mail,
      xms_edov: false,
    });
    expect(guest.idp).not.toBe(guest.iss);
  });

  it('replaces groups with an overage pointer beyond 200 groups', async () => {
    const { store } = t.emulator;
    for (let i = 0; i < 200; i++) {
      const g = store.addGroup({ tenantId: DEMO.tenants.contoso.id, displayName: `Team ${i}` });
      store.addMember(g.id, DEMO.users.megan.id);
    }
    const token = claims(await idToken(DEMO.users.megan.upn));
    expect(token.groups).toBeUndefined();
    expect(token._claim_names).toEqual({ groups: 'src1' });
    expect(token._claim_sources).toEqual({
      src1: { endpoint: `${t.emulator.graphBaseUrl}/v1.0/users/${DEMO.users.megan.id}/getMemberObjects` },
    });

    store.removeMember(DEMO.groups.engineering.id, DEMO.users.megan.id);
    expect((claims(await idToken(DEMO.users.megan.upn)).groups as string[]).length).toBe(200);
  });

  describe('next-ID-token overrides', () => {
    it('changes and removes claims, for the next token only', async () => {
      t.emulator.store.setNextIdTokenOverride({
        claims: { aud: 'someone-else', nonce: 'evil' },
        removeClaims: ['tid'],
      });
      const overridden = await idToken(DEMO.users.megan.upn);
      expect(claims(overridden)).toMatchObject({ aud: 'someone-else', nonce: 'evil' });
      expect(claims(overridden).tid).toBeUndefined();
      await expect(verify(overridden)).rejects.toThrow(errors.JWTClaimValidationFailed);

      const next = await idToken(DEMO.users.megan.upn);
      expect(claims(next).aud).toBe(TEST_CLIENT.clientId);
      await expect(verify(next)).resolves.toMatchObject({ oid: DEMO.users.megan.id });
    });

    it('produces expired tokens that still carry a valid signature', async () => {
      const past = Math.floor(Date.now() / 1000) - 7200;
      t.emulator.store.setNextIdTokenOverride({ claims: { iat: past, nbf: past, exp: past + 3600 } });
      await expect(verify(await idToken(DEMO.users.megan.upn))).rejects.toThrow(errors.JWTExpired);
    });

    it('signs with an unpublished key under a plausible kid', async () => {
      t.emulator.store.setNextIdTokenOverride({ signature: 'foreign-key' });
      const token = await idToken(DEMO.users.megan.upn);
      expect(decodeProtectedHeader(token).kid).toMatch(/^[A-Za-z0-9_-]{27}$/);
      await expect(verify(token)).rejects.toThrow(errors.JWKSNoMatchingKey);
    });

    it('tampers with the payload after signing', async () => {
      t.emulator.store.setNextIdTokenOverride({
        signature: 'tampered',
        claims: { oid: DEMO.users.adele.id },
      });
      const token = await idToken(DEMO.users.megan.upn);
      expect(claims(token).oid).toBe(DEMO.users.adele.id);
      await expect(verify(token)).rejects.toThrow(errors.JWSSignatureVerificationFailed);
    });
  });

  describe('key rotation', () => {
    it('signs with the new key and keeps old tokens verifiable until the old key is dropped', async () => {
      const before = await idToken(DEMO.users.megan.upn);
      t.emulator.rotateKeys();
      const after = await idToken(DEMO.users.megan.upn);
      expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
      await expect(verify(before)).resolves.toBeTruthy();
      await expect(verify(after)).resolves.toBeTruthy();

      t.emulator.rotateKeys({ dropOld: true });
      await expect(verify(before)).rejects.toThrow(errors.JWKSNoMatchingKey);
      await expect(verify(await idToken(DEMO.users.megan.upn))).resolves.toBeTruthy();
    });
  });
});
