import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import {
  appGraphToken,
  call,
  graphCall,
  graphPages,
  json,
  postJson,
  startTestEmulator,
  type GraphPage,
  type TestEmulator,
} from './test-support.js';

const contoso = DEMO.tenants.contoso.id;

let t: TestEmulator;
let token: string;
beforeAll(async () => {
  t = await startTestEmulator();
  token = await appGraphToken(t, contoso, ['User.Read.All', 'Organization.Read.All']);
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

const control = (path: string, body: unknown = {}) =>
  postJson(`${t.emulator.url}/_emulator${path}`, t.ca, body);
const stats = async () =>
  json<{ requests: number }>(await call(`${t.emulator.url}/_emulator/graph-stats`, t.ca)).requests;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

describe('Graph latency, request counting and timeouts', () => {
  it('adds the configured latency to every HTTP request, a batch being one', async () => {
    expect((await control('/graph-settings', { latencyMs: 120 })).status).toBe(200);
    const [res, elapsed] = await timed(() => graphCall(t, '/organization', token));
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(115);

    const requests = Array.from({ length: 10 }, (_, i) => ({
      id: String(i),
      method: 'GET',
      url: '/organization',
    }));
    const [batch, batchElapsed] = await timed(() => graphCall(t, '/$batch', token, { body: { requests } }));
    expect(batch.status).toBe(200);
    expect(batchElapsed).toBeGreaterThanOrEqual(115);
    expect(batchElapsed).toBeLessThan(5 * 120);

    expect((await control('/graph-settings', { latencyMs: -1 })).status).toBe(400);
  });

  it('counts HTTP requests to /v1.0, failed ones included, and resets the count', async () => {
    expect((await control('/graph-stats/reset')).status).toBe(200);
    t.emulator.store.addFault({ path: '/v1.0/users', kind: 'status', status: 429, retryAfter: 1 });
    expect((await graphCall(t, '/users', token)).status).toBe(429);
    expect((await graphCall(t, '/users', token)).status).toBe(200);
    expect((await graphCall(t, '/users', 'not-a-token')).status).toBe(401);
    await appGraphToken(t, contoso, ['User.Read.All']); // the identity endpoints are not Graph
    expect(await stats()).toBe(3);
    expect(t.emulator.store.graphRequestCount()).toBe(3);
  });

  it('holds a request (or a batch with a timed-out step) until the client gives up', async () => {
    const [userId] = t.emulator.store.generateUsers(contoso, 1);
    t.emulator.store.addFault({ path: `/v1.0/users/${userId}`, kind: 'timeout', times: 2 });
    await expect(graphCall(t, `/users/${userId}`, token, { timeoutMs: 150 })).rejects.toThrow(
      'client timeout',
    );
    const step = { id: '1', method: 'GET', url: `/users/${userId}` };
    await expect(
      graphCall(t, '/$batch', token, { body: { requests: [step] }, timeoutMs: 150 }),
    ).rejects.toThrow('client timeout');
  });
});

describe('big tenants', () => {
  it('generates 100,000 users quickly and serves pages without slowing down', async () => {
    const store = t.emulator.store;
    const heapBefore = process.memoryUsage().heapUsed;
    const [ids, generation] = await timed(async () =>
      store.generateUsers(contoso, 100_000, { disabledEvery: 1000 }),
    );
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.log(`generated 100,000 users in ${Math.round(generation)} ms, heap +${Math.round(heapMb)} MB`);
    expect(generation).toBeLessThan(10_000);
    expect(ids).toHaveLength(100_000);
    expect(store.findUser(ids[99_999])?.userPrincipalName).toBe('user100000@contoso.com');

    const [first, firstMs] = await timed(() =>
      graphCall(t, '/users?$select=id,accountEnabled&$top=999', token),
    );
    const page = json<GraphPage<{ id: string }>>(first);
    expect(page.value).toHaveLength(999);
    const [second, secondMs] = await timed(() => graphCall(t, page['@odata.nextLink']!, token));
    expect(json<GraphPage>(second).value).toHaveLength(999);
    const [disabled, filterMs] = await timed(() =>
      graphCall(t, '/users?$select=id&$filter=accountEnabled eq false&$top=999', token),
    );
    expect(json<GraphPage>(disabled).value).toHaveLength(101); // 100 generated + the fixture's
    console.log(
      `pages over 100k: ${Math.round(firstMs)} / ${Math.round(secondMs)} / ${Math.round(filterMs)} ms`,
    );
    expect(Math.max(firstMs, secondMs, filterMs)).toBeLessThan(1000);

    // Ids derive from tenant and index: the same after a reset and a new run.
    store.reset();
    expect(store.generateUsers(contoso, 2)).toEqual(ids.slice(0, 2));
  });

  it('changes many users at once through the control API, and delta reports exactly those', async () => {
    const { ids } = json<{ ids: string[] }>(
      await control('/users/generate', { tenantId: contoso, count: 20_000 }),
    );
    expect(ids).toHaveLength(20_000);
    const start = json<GraphPage>(
      await graphCall(t, '/users/delta?$select=id,accountEnabled&$deltatoken=latest', token),
    );
    expect(start.value).toEqual([]);

    const toDisable = ids.slice(100, 200);
    const toDelete = ids.slice(5000, 5100);
    expect(json(await control('/users/bulk-update', { ids: toDisable, accountEnabled: false }))).toEqual({
      updated: 100,
    });
    expect(json(await control('/users/bulk-delete', { ids: toDelete }))).toEqual({ deleted: 100 });
    expect((await control(`/users/${ids[7]}/purge`)).status).toBe(200);
    expect((await control('/users/bulk-delete', { ids: [crypto.randomUUID()] })).status).toBe(400);

    const round = await graphPages<{ id: string; accountEnabled?: boolean; '@removed'?: { reason: string } }>(
      t,
      start['@odata.deltaLink']!,
      token,
    );
    expect(round.deltaLink).toBeTruthy();
    expect(round.pages.map((p) => p.length)).toEqual([200, 1]);
    const changes = { value: round.pages.flat() };
    expect(changes.value).toHaveLength(201);
    expect(changes.value.filter((c) => c.accountEnabled === false).map((c) => c.id)).toEqual(toDisable);
    expect(changes.value.filter((c) => c['@removed']?.reason === 'changed').map((c) => c.id)).toEqual(
      toDelete,
    );
    expect(changes.value.find((c) => c['@removed']?.reason === 'deleted')?.id).toBe(ids[7]);
  });
});
