import { describe, expect, it } from 'vitest';
import { DEMO, demoFixture } from './fixture.js';
import { EmulatorInputError, EmulatorStore } from './store.js';

function refreshTokenFor(store: EmulatorStore, userId: string) {
  return store.createRefreshToken({
    clientId: DEMO.client.clientId,
    tenantId: DEMO.tenants.contoso.id,
    userId,
    scopes: ['openid', 'offline_access'],
    authTime: 0,
  });
}

describe('EmulatorStore (the facade over the emulator state)', () => {
  it('revokes a user’s refresh tokens when the user is deleted, and only theirs', () => {
    const store = new EmulatorStore(demoFixture());
    const megans = refreshTokenFor(store, DEMO.users.megan.id);
    const adeles = refreshTokenFor(store, DEMO.users.adele.id);

    store.deleteUser(DEMO.users.megan.id);

    expect(store.findUser(DEMO.users.megan.id)?.deletedAt).toBeInstanceOf(Date);
    expect(store.findRefreshToken(megans.token)?.revokedAt).not.toBeNull();
    expect(store.findRefreshToken(adeles.token)?.revokedAt).toBeNull();
    expect(store.liveRefreshTokenCount()).toBe(1);
  });

  it('drops the memberships of a purged user and leaves a tombstone', () => {
    const store = new EmulatorStore(demoFixture());
    expect(store.transitiveGroupIds(DEMO.users.megan.id)).toContain(DEMO.groups.engineering.id);

    const tombstone = store.purgeUser(DEMO.users.megan.id);

    expect(tombstone.id).toBe(DEMO.users.megan.id);
    expect(store.findUser(DEMO.users.megan.id)).toBeUndefined();
    expect(store.memberships.some((m) => m.memberId === DEMO.users.megan.id)).toBe(false);
  });

  it('goes back to the fixture on reset and stops honouring delta tokens from before', () => {
    const store = new EmulatorStore(demoFixture());
    const generation = store.deltaTokenGeneration;
    store.addUser({ tenantId: DEMO.tenants.contoso.id, userPrincipalName: 'temp@contoso.com' });
    store.setConsentDecision('decline');
    store.updateGraphSettings({ deltaPageSize: 7 });
    store.addFault({ path: '/v1.0/users', kind: 'status', status: 503 });
    store.advanceClock(60_000);

    store.reset();

    expect(store.findUserByLoginHint('temp@contoso.com')).toBeUndefined();
    expect(store.consentDecision).toBe('accept');
    expect(store.graphSettings.deltaPageSize).toBe(200);
    expect(store.takeFault('GET', '/v1.0/users')).toBeUndefined();
    expect(store.now()).toBeLessThanOrEqual(Date.now()); // the clock moved back from a minute ahead
    expect(store.deltaTokenGeneration).toBeGreaterThan(generation);
  });

  it('refuses input it cannot keep consistent with its input error', () => {
    const store = new EmulatorStore(demoFixture());
    const unknownTenant = '00000000-0000-4000-8000-000000000000';

    expect(() => store.addGroup({ tenantId: unknownTenant, displayName: 'X' })).toThrow(EmulatorInputError);
    expect(() => store.addGroup({ tenantId: undefined as unknown as string, displayName: 'X' })).toThrow(
      EmulatorInputError,
    );
    expect(() => store.grantConsent(unknownTenant, DEMO.client.clientId, { scopes: ['User.Read'] })).toThrow(
      EmulatorInputError,
    );
    expect(() => store.addMember(DEMO.groups.engineering.id, DEMO.users.diego.id)).toThrow(
      'member belongs to another tenant',
    );
    expect(() => store.updateGraphSettings({ deltaPageSize: 0 })).toThrow(EmulatorInputError);
    expect(store.graphSettings.deltaPageSize).toBe(200);
  });

  it('merges consent grants case-insensitively and forgets them on revoke', () => {
    const store = new EmulatorStore(demoFixture());
    const tenantId = DEMO.tenants.contoso.id;
    store.grantConsent(tenantId, DEMO.client.clientId, { scopes: ['User.Read.All'] });
    store.grantConsent(tenantId, DEMO.client.clientId.toUpperCase(), {
      scopes: ['user.read.all', 'Group.Read.All'],
    });

    expect(store.findGrant(tenantId, DEMO.client.clientId)?.scopes).toEqual([
      'User.Read.All',
      'Group.Read.All',
    ]);
    store.revokeConsent(tenantId, DEMO.client.clientId);
    expect(store.findGrant(tenantId, DEMO.client.clientId)).toBeUndefined();
  });
});
