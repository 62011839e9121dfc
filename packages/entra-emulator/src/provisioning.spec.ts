import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { provisionCli } from './provision-cli.js';
import { DEMO } from './fixture.js';
import { startRecordingTarget, type RecordedRequest, type RecordingTarget } from './scim-recording-target.js';
import { EmulatorStore } from './store.js';
import { demoFixture } from './fixture.js';
import { ProvisioningService } from './provisioning-service.js';
import { TEST_CLIENT, json, postJson, call, startTestEmulator, type TestEmulator } from './test-support.js';

const contoso = DEMO.tenants.contoso.id;
const app = DEMO.client.clientId;
const u = DEMO.users;

let t: TestEmulator;
let target: RecordingTarget;

beforeAll(async () => {
  t = await startTestEmulator({
    clients: [TEST_CLIENT, { ...DEMO.client, redirectUris: [...DEMO.client.redirectUris] }],
  });
  target = await startRecordingTarget();
});
afterAll(async () => {
  await t.emulator.close();
  await target.close();
});
beforeEach(() => {
  t.emulator.store.reset();
  target.reset();
});
afterEach(() => t.emulator.provisioning.stopAll());

const service = () => t.emulator.provisioning;
const newJob = (tenantUrl = target.url, token = target.token) =>
  service().createJob({ tenantId: contoso, clientId: app, tenantUrl, token });
const line = (r: RecordedRequest) =>
  `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query).toString()}` : ''}`;
const scimIdOf = (userName: string) => [...target.users.values()].find((x) => x.userName === userName)!.id;
const patchesOf = (id: string) =>
  target.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/${id}`)).map((r) => r.body);

describe('Test Connection', () => {
  it('asks for a random GUID userName with the bearer token and expects 200 with an empty list', async () => {
    const job = newJob();
    const report = await service().testConnection(job.id);
    expect(report).toMatchObject({ kind: 'test-connection', ok: true, requests: 1 });
    expect(target.requests).toHaveLength(1);
    const [request] = target.requests;
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/Users');
    expect(request.authorization).toBe(`Bearer ${target.token}`);
    expect(request.query.filter).toMatch(
      /^userName eq "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"$/,
    );
    expect(service().job(job.id).cycles).toBe(0);
  });

  it('fails on a refused token and on a target that does not answer', async () => {
    const refused = await service().testConnection(newJob(target.url, 'scim_wrong').id);
    expect(refused.ok).toBe(false);
    expect(refused.error).toContain('401');
    const nobody = await service().testConnection(newJob('http://127.0.0.1:9/scim/v2', 'x').id);
    expect(nobody.ok).toBe(false);
    expect(service().job(newJob().id).log).toEqual([]);
  });
});

describe('the initial cycle (default, non-compliant forms)', () => {
  it('queries each assigned user by userName, POSTs it, then the groups without members, then their members', async () => {
    const job = newJob();
    const report = await service().runCycle(job.id);
    expect(report).toMatchObject({
      number: 1,
      kind: 'initial',
      usersCreated: 3,
      groupsCreated: 2,
      membersAdded: 1,
      failed: 0,
      escrowed: 0,
    });
    const megan = scimIdOf(u.megan.upn);
    const engineering = [...target.groups.values()].find((g) => g.displayName === 'Engineering')!.id;
    expect(target.requests.map(line)).toEqual([
      `GET /Users?filter=${encodeURIComponent(`userName eq "${u.adele.upn}"`).replace(/%20/g, '+')}`,
      'POST /Users',
      `GET /Users?filter=${encodeURIComponent(`userName eq "${u.disabled.upn}"`).replace(/%20/g, '+')}`,
      'POST /Users',
      `GET /Users?filter=${encodeURIComponent(`userName eq "${u.megan.upn}"`).replace(/%20/g, '+')}`,
      'POST /Users',
      'GET /Groups?excludedAttributes=members&filter=displayName+eq+%22Engineering%22',
      'POST /Groups',
      `PATCH /Groups/${engineering}`,
      'GET /Groups?excludedAttributes=members&filter=displayName+eq+%22IT+Admins%22',
      'POST /Groups',
    ]);
    // Bodies come as application/json, as Entra sends them.
    expect(
      target.requests.filter((r) => r.body).every((r) => r.contentType?.startsWith('application/json')),
    ).toBe(true);
    expect(target.requests[1].body).toEqual({
      schemas: [
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      ],
      externalId: 'adele',
      userName: u.adele.upn,
      active: true,
      displayName: u.adele.displayName,
      emails: [{ primary: true, type: 'work', value: u.adele.upn }],
      meta: { resourceType: 'User' },
      name: { formatted: 'Adele Vance', familyName: 'Vance', givenName: 'Adele' },
      roles: [],
    });
    expect((target.requests[3].body as { active: unknown }).active).toBe(false); // the disabled user
    expect(target.requests[7].body).toMatchObject({
      displayName: 'Engineering',
      externalId: DEMO.groups.engineering.id,
      members: [],
    });
    expect(target.requests[8].body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: megan }] }],
    });
    expect(target.groups.get(engineering)!.members).toEqual([{ value: megan }]);
    // The job's cache knows what it provisioned.
    expect(Object.keys(service().job(job.id).users).sort()).toEqual(
      [u.adele.id, u.disabled.id, u.megan.id].sort(),
    );
  });

  it('sends nothing in a cycle where nothing changed', async () => {
    const job = newJob();
    await service().runCycle(job.id);
    target.clear();
    const report = await service().runCycle(job.id);
    expect(report).toMatchObject({ number: 2, kind: 'incremental', requests: 0 });
    expect(target.requests).toEqual([]);
  });

  it('adopts an existing account with the same userName (PATCH, no POST) and leaves accounts it never provisioned alone', async () => {
    const existing = target.seedUser({
      userName: u.adele.upn,
      active: true,
      displayName: 'A. Vance',
      externalId: 'adele',
    });
    const stranger = target.seedUser({
      userName: 'someone.else@contoso.com',
      active: true,
      displayName: 'Someone',
    });
    const job = newJob();
    const report = await service().runCycle(job.id);
    expect(report).toMatchObject({ usersMatched: 1, usersCreated: 2 });
    expect(target.requests.filter((r) => r.method === 'POST' && r.path === '/Users')).toHaveLength(2);
    expect(patchesOf(existing.id)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'Replace', path: 'displayName', value: u.adele.displayName },
          { op: 'Add', path: 'emails[type eq "work"].value', value: u.adele.upn },
          { op: 'Add', path: 'name.givenName', value: 'Adele' },
          { op: 'Add', path: 'name.familyName', value: 'Vance' },
        ],
      },
    ]);
    expect(service().job(job.id).users[u.adele.id].scimId).toBe(existing.id);
    // Unassigning everybody disables what the job provisioned, never the stranger.
    for (const a of t.emulator.store.assignmentsOf(contoso, app))
      t.emulator.store.unassignFromApp(contoso, app, a.principalId);
    await service().runCycle(job.id);
    expect(target.requests.some((r) => r.path.includes(stranger.id))).toBe(false);
    expect(target.users.get(stranger.id)!.active).toBe(true);
  });
});

describe('incremental cycles', () => {
  it('disables, updates, re-enables, changes membership and deletes in the default forms', async () => {
    const store = t.emulator.store;
    const job = newJob();
    await service().runCycle(job.id);
    const [adele, megan, disabled] = [u.adele.upn, u.megan.upn, u.disabled.upn].map(scimIdOf);
    const engineering = [...target.groups.values()].find((g) => g.displayName === 'Engineering')!.id;
    target.clear();

    store.updateUser(u.megan.id, { accountEnabled: false });
    store.updateUser(u.adele.id, { displayName: 'Adele V.', surname: null });
    let report = await service().runCycle(job.id);
    expect(report).toMatchObject({ usersDisabled: 1, usersUpdated: 1 });
    expect(patchesOf(megan)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
      },
    ]);
    expect(patchesOf(adele)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'Replace', path: 'displayName', value: 'Adele V.' },
          { op: 'Remove', path: 'name.familyName' },
        ],
      },
    ]);
    expect(target.users.get(megan)!.active).toBe(false);

    // Re-enabled; unassigned; taken out of the group; hard-deleted.
    target.clear();
    store.updateUser(u.megan.id, { accountEnabled: true });
    store.unassignFromApp(contoso, app, u.adele.id);
    store.purgeUser(u.disabled.id);
    report = await service().runCycle(job.id);
    expect(report).toMatchObject({ usersUpdated: 1, usersDisabled: 1, usersDeleted: 1 });
    expect(patchesOf(megan)[0]).toMatchObject({
      Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
    });
    expect(patchesOf(adele)[0]).toMatchObject({
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(target.requests.filter((r) => r.method === 'DELETE').map(line)).toEqual([
      `DELETE /Users/${disabled}`,
    ]);
    expect(target.users.has(disabled)).toBe(false);
    expect(service().job(job.id).users[u.disabled.id]).toBeUndefined();

    // Megan leaves Engineering, which was her only way into scope: removed from the group, then disabled.
    target.clear();
    store.removeMember(DEMO.groups.engineering.id, u.megan.id);
    report = await service().runCycle(job.id);
    expect(report).toMatchObject({ usersDisabled: 1, membersRemoved: 1 });
    expect(patchesOf(engineering)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'Remove', path: 'members', value: [{ value: megan }] }],
      },
    ]);
    expect(target.groups.get(engineering)!.members).toEqual([]);

    // A group unassigned from the app is deleted from the target.
    target.clear();
    store.unassignFromApp(contoso, app, DEMO.groups.itAdmins.id);
    report = await service().runCycle(job.id);
    expect(report.groupsDeleted).toBe(1);
    expect(target.requests.map(line)).toEqual([expect.stringMatching(/^DELETE \/Groups\//)]);
  });

  it('speaks the compliant forms when the Tenant URL carries aadOptscim062020, on every request', async () => {
    const store = t.emulator.store;
    const job = newJob(`${target.url}?aadOptscim062020`);
    await service().runCycle(job.id);
    expect(target.requests.every((r) => 'aadOptscim062020' in r.query)).toBe(true);
    const [adele, megan] = [u.adele.upn, u.megan.upn].map(scimIdOf);
    const engineering = [...target.groups.values()].find((g) => g.displayName === 'Engineering')!.id;
    expect(patchesOf(engineering)[0]).toMatchObject({
      Operations: [{ op: 'add', path: 'members', value: [{ value: megan }] }],
    });
    target.clear();

    store.updateUser(u.adele.id, { givenName: 'Adèle', surname: null, accountEnabled: false });
    store.removeMember(DEMO.groups.engineering.id, u.megan.id);
    store.addMember(DEMO.groups.itAdmins.id, u.megan.id);
    await service().runCycle(job.id);
    expect(patchesOf(adele)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'replace', path: 'active', value: false },
          { op: 'replace', value: { 'name.givenName': 'Adèle', 'name.familyName': null } },
        ],
      },
    ]);
    expect(patchesOf(engineering)).toEqual([
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'remove', path: `members[value eq "${megan}"]` }],
      },
    ]);
    expect(target.users.get(adele)).toMatchObject({ active: false, name: { givenName: 'Adèle' } });
  });
});

describe('escrow', () => {
  it('keeps a failed object in escrow, carries on with the rest, and retries it first in the next cycle', async () => {
    target.failNext(
      (r) => r.method === 'POST' && (r.body as { userName?: string })?.userName === u.megan.upn,
      500,
      2,
    );
    const job = newJob();
    let report = await service().runCycle(job.id);
    expect(report).toMatchObject({
      usersCreated: 2,
      groupsCreated: 2,
      membersAdded: 0,
      failed: 1,
      escrowed: 1,
    });
    expect(service().job(job.id).escrow).toEqual([
      expect.objectContaining({
        objectType: 'User',
        sourceId: u.megan.id,
        attempts: 1,
        lastError: expect.stringContaining('500'),
      }),
    ]);

    target.clear();
    report = await service().runCycle(job.id);
    expect(report).toMatchObject({ failed: 1, escrowed: 1 });
    expect(service().job(job.id).escrow[0].attempts).toBe(2);
    // The retry comes first in the cycle.
    expect(line(target.requests[0])).toContain(encodeURIComponent(u.megan.upn));

    target.clear();
    report = await service().runCycle(job.id);
    expect(report).toMatchObject({ usersCreated: 1, membersAdded: 1, failed: 0, escrowed: 0 });
    expect(service().job(job.id).escrow).toEqual([]);
    const engineering = [...target.groups.values()].find((g) => g.displayName === 'Engineering')!;
    expect(engineering.members).toEqual([{ value: scimIdOf(u.megan.upn) }]);
    // Every exchange is in the job's log, the failures with their answers.
    const failures = service()
      .job(job.id)
      .log.filter((e) => e.status === 500);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({
      method: 'POST',
      sourceId: u.megan.id,
      responseBody: { detail: 'injected failure' },
    });
  });
});

describe('Provisioning Status and the control API', () => {
  it('creates a job over HTTPS, tests the connection, runs the initial cycle and never shows the token', async () => {
    const created = await postJson(`${t.emulator.url}/_emulator/provisioning/jobs`, t.ca, {
      tenantUrl: target.url,
      token: target.token,
      cycle: true,
    });
    expect(created.status).toBe(201);
    const body = json<{
      job: { id: string };
      testConnection: { ok: boolean };
      cycle: { usersCreated: number };
    }>(created);
    expect(body.testConnection.ok).toBe(true);
    expect(body.cycle.usersCreated).toBe(3);
    expect(created.text).not.toContain(target.token);
    const id = body.job.id;

    const off = await postJson(
      `${t.emulator.url}/_emulator/provisioning/jobs/${id}`,
      t.ca,
      { status: 'off' },
      'PATCH',
    );
    expect(json(off)).toMatchObject({ status: 'off' });
    t.emulator.store.updateUser(u.megan.id, { accountEnabled: false });
    const refused = await postJson(`${t.emulator.url}/_emulator/provisioning/jobs/${id}/cycles`, t.ca, {});
    expect(refused.status).toBe(400);
    expect(target.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith('/Users'))).toEqual([]);

    await postJson(`${t.emulator.url}/_emulator/provisioning/jobs/${id}`, t.ca, { status: 'on' }, 'PATCH');
    const resumed = await postJson(`${t.emulator.url}/_emulator/provisioning/jobs/${id}/cycles`, t.ca, {});
    expect(json(resumed)).toMatchObject({ number: 2, kind: 'incremental', usersDisabled: 1, requests: 1 });

    const log = await call(`${t.emulator.url}/_emulator/provisioning/jobs/${id}/log?cycle=2`, t.ca);
    expect(json<unknown[]>(log)).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        status: 200,
        requestBody: expect.objectContaining({
          Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
        }),
      }),
    ]);
    const failedTest = await postJson(`${t.emulator.url}/_emulator/provisioning/jobs`, t.ca, {
      tenantUrl: target.url,
      token: 'scim_wrong',
      cycle: true,
    });
    expect(json(failedTest)).toMatchObject({ testConnection: { ok: false }, cycle: null });
  });

  it('assigns and unassigns users and groups, refusing unknown principals', async () => {
    const base = `${t.emulator.url}/_emulator/assignments`;
    const added = await postJson(base, t.ca, { principalId: u.megan.id });
    expect(added.status).toBe(201);
    expect(json(added)).toMatchObject({ tenantId: contoso, clientId: app, principalType: 'User' });
    expect((await postJson(base, t.ca, { principalId: u.diego.id })).status).toBe(400); // another tenant
    expect((await postJson(base, t.ca, { principalId: crypto.randomUUID() })).status).toBe(400);
    const removed = await call(`${base}/${contoso}/${app}/${u.megan.id}`, t.ca, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect((await call(`${base}/${contoso}/${app}/${u.megan.id}`, t.ca, { method: 'DELETE' })).status).toBe(
      400,
    );
  });
});

describe('persistence', () => {
  it('keeps assignments and jobs with their cache across an export and restore', async () => {
    const store = new EmulatorStore(demoFixture());
    const provisioning = new ProvisioningService(store);
    store.unassignFromApp(contoso, app, u.disabled.id);
    const job = provisioning.createJob({
      tenantId: contoso,
      clientId: app,
      tenantUrl: target.url,
      token: target.token,
    });
    await provisioning.runCycle(job.id);
    const saved = JSON.parse(JSON.stringify(store.exportState()));
    const restored = new EmulatorStore(demoFixture());
    restored.restoreState(saved);
    expect(restored.assignmentsOf(contoso, app).map((a) => a.principalId)).not.toContain(u.disabled.id);
    const again = new ProvisioningService(restored);
    target.clear();
    expect(await again.runCycle(job.id)).toMatchObject({ number: 2, requests: 0 });
    expect(again.job(job.id).config.token).toBe(target.token);
  });
});

describe('npm run emulator -- provision', () => {
  it('pushes the demo tenant with a saved emulator state, then continues incrementally on the next run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provision-cli-'));
    const previous = process.env.DATA_DIR;
    process.env.DATA_DIR = dir;
    const printed: string[] = [];
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: unknown) => void printed.push(String(line)));
    try {
      const args = ['--tenant-url', target.url, '--token', target.token];
      expect(await provisionCli(args)).toBe(0);
      expect(target.users.size).toBe(3);
      expect(printed.join('\n')).toMatch(
        /Test Connection: ok[\s\S]*cycle 1 \(initial\): 11 requests .* 3 users created/,
      );
      target.clear();
      printed.length = 0;
      expect(await provisionCli(args)).toBe(0);
      expect(printed.join('\n')).toContain('cycle 2 (incremental): 0 requests');
      expect(target.requests).toHaveLength(1); // Test Connection only
      expect(await provisionCli(['--tenant-url', target.url, '--token', 'scim_wrong'])).toBe(1);
      expect(await provisionCli([])).toBe(2);
    } finally {
      log.mockRestore();
      if (previous === undefined) delete process.env.DATA_DIR;
      else process.env.DATA_DIR = previous;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
