import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import { appGraphToken, graphCall, json, startTestEmulator, type TestEmulator } from './test-support.js';

interface StepResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: { id?: string; accountEnabled?: boolean; error?: { code: string; message: string } };
}

const contoso = DEMO.tenants.contoso.id;

let t: TestEmulator;
let token: string;
beforeAll(async () => {
  t = await startTestEmulator();
  token = await appGraphToken(t, contoso, ['User.Read.All']);
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

const userStep = (id: string, userId: string) => ({
  id,
  method: 'GET',
  url: `/users/${userId}?$select=id,accountEnabled`,
});

async function batch(requests: unknown[], bearer = token) {
  const res = await graphCall(t, '/$batch', bearer, { body: { requests } });
  return { res, responses: res.status === 200 ? json<{ responses: StepResponse[] }>(res).responses : [] };
}

describe('POST /$batch', () => {
  it('answers 20 steps, in an order other than the request order, matched by id', async () => {
    const ids = t.emulator.store.generateUsers(contoso, 20, { disabledEvery: 4 });
    const { res, responses } = await batch(ids.map((userId, i) => userStep(String(i + 1), userId)));
    expect(res.status).toBe(200);
    expect(responses).toHaveLength(20);
    expect(responses.map((r) => r.id)).not.toEqual(ids.map((_, i) => String(i + 1)));
    for (const r of responses) {
      const i = Number(r.id) - 1;
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        '@odata.context': expect.any(String),
        id: ids[i],
        accountEnabled: (i + 1) % 4 !== 0,
      });
    }
  });

  it('rejects more than 20 steps and duplicate ids as a whole', async () => {
    const ids = t.emulator.store.generateUsers(contoso, 21);
    const tooMany = await batch(ids.map((userId, i) => userStep(String(i), userId)));
    expect(tooMany.res.status).toBe(400);
    const error = json<{ error: { code: string; message: string } }>(tooMany.res).error;
    expect(error.code).toBe('Request_BadRequest');
    expect(error.message).toContain('exceeds the maximum of 20');

    const duplicate = await batch([userStep('1', ids[0]), userStep('1', ids[1])]);
    expect(duplicate.res.status).toBe(400);
  });

  it('fails single steps: 404, a /v1.0-prefixed url, a missing permission', async () => {
    const { megan } = DEMO.users;
    const { responses } = await batch([
      userStep('ok', megan.id),
      userStep('missing', crypto.randomUUID()),
      { id: 'prefixed', method: 'GET', url: `/v1.0/users/${megan.id}` },
      { id: 'groups', method: 'GET', url: '/groups' },
      {
        id: 'post',
        method: 'POST',
        url: `/users/${megan.id}/getMemberObjects`,
        headers: { 'Content-Type': 'application/json' },
        body: { securityEnabledOnly: false },
      },
    ]);
    const byId = new Map(responses.map((r) => [r.id, r]));
    expect(byId.get('ok')).toMatchObject({ status: 200, body: { id: megan.id } });
    expect(byId.get('missing')).toMatchObject({
      status: 404,
      body: { error: { code: 'Request_ResourceNotFound' } },
    });
    expect(byId.get('prefixed')?.status).toBe(400);
    expect(byId.get('prefixed')?.body.error?.message).toContain("'v1.0'");
    // The batch token has User.Read.All only: the same permission check as a direct call.
    expect(byId.get('groups')).toMatchObject({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied' } },
    });
    expect(byId.get('post')?.status).toBe(403);
  });

  it('applies a fault on one user’s path to that step only, with Retry-After in its headers', async () => {
    const ids = t.emulator.store.generateUsers(contoso, 3);
    t.emulator.store.addFault({
      path: `/v1.0/users/${ids[1]}`,
      kind: 'status',
      status: 429,
      retryAfter: 2.5,
    });
    const requests = ids.map((userId, i) => userStep(String(i), userId));

    const first = await batch(requests);
    expect(first.res.status).toBe(200);
    const throttled = first.responses.find((r) => r.id === '1')!;
    expect(throttled.status).toBe(429);
    expect(throttled.headers['Retry-After']).toBe('2.5');
    expect(throttled.body.error?.code).toBe('TooManyRequests');
    expect(first.responses.filter((r) => r.status === 200).map((r) => r.id)).toEqual(
      expect.arrayContaining(['0', '2']),
    );

    // The fault was used up; a retry of the failed step succeeds.
    const retry = await batch([requests[1]]);
    expect(retry.responses[0]).toMatchObject({ status: 200, body: { id: ids[1] } });
  });

  it('counts as one request, and request-level faults on /v1.0/$batch hit the whole batch', async () => {
    const ids = t.emulator.store.generateUsers(contoso, 5);
    t.emulator.store.resetGraphRequestCount();
    await batch(ids.map((userId, i) => userStep(String(i), userId)));
    expect(t.emulator.store.graphRequestCount()).toBe(1);

    t.emulator.store.addFault({ path: '/v1.0/$batch', kind: 'status', status: 503 });
    const failed = await batch([userStep('1', ids[0])]);
    expect(failed.res.status).toBe(503);
    expect(t.emulator.store.graphRequestCount()).toBe(2);
  });
});
