import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import { resourceUnitCost, tenantBudget } from './graph-throttling.js';
import {
  appGraphToken,
  graphCall,
  json,
  postJson,
  startTestEmulator,
  type TestEmulator,
} from './test-support.js';

const contoso = DEMO.tenants.contoso.id;

interface GraphErrorBody {
  error: { code: string; message: string; innerError: Record<string, string> };
}

let t: TestEmulator;
let token: string;
beforeAll(async () => {
  t = await startTestEmulator();
  token = await appGraphToken(t, contoso, ['User.Read.All']);
});
afterEach(() => t.emulator.store.reset());
afterAll(() => t.emulator.close());

const q = (query: string) => new URLSearchParams(query);

describe('resource-unit costs (Graph identity and access service limits)', () => {
  it('prices requests like Graph: users 2, $select -1, small $top -1, $expand +1, never below 1', () => {
    expect(resourceUnitCost('GET', ['users'], q(''))).toBe(2);
    expect(resourceUnitCost('GET', ['users'], q('$select=id&$top=999'))).toBe(1);
    expect(resourceUnitCost('GET', ['users', 'delta'], q('$select=id'))).toBe(1);
    expect(resourceUnitCost('GET', ['users', 'x'], q('$select=id&$top=5'))).toBe(1);
    expect(resourceUnitCost('GET', ['groups', 'g', 'transitiveMembers'], q(''))).toBe(5);
    expect(resourceUnitCost('GET', ['groups', 'g', 'members'], q('$expand=manager'))).toBe(4);
    expect(resourceUnitCost('POST', ['users', 'u', 'getMemberObjects'], q(''))).toBe(2);
    expect(tenantBudget(49)).toBe(3_500);
    expect(tenantBudget(500)).toBe(5_000);
    expect(tenantBudget(501)).toBe(8_000);
  });
});

describe('throttling', () => {
  it('answers 429 with Retry-After and Graph’s error body once the pair’s budget is spent', async () => {
    t.emulator.store.updateGraphSettings({ resourceUnitsPer10s: 5 });
    // GET /users without $select costs 2: two pass, the third would overdraw the 5 units.
    expect((await graphCall(t, '/users', token)).status).toBe(200);
    expect((await graphCall(t, '/users', token)).status).toBe(200);
    const throttled = await graphCall(t, '/users', token);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(throttled.headers['x-ms-throttle-information']).toBe('ResourceUnitLimitExceeded');
    expect(throttled.headers['x-ms-throttle-scope']).toMatch(/^Tenant_Application\/ReadWrite\//);
    const body = json<GraphErrorBody>(throttled);
    expect(body.error.code).toBe('TooManyRequests');
    expect(body.error.message).toMatch(/retry after \d+ seconds/);
    expect(body.error.innerError['request-id']).toBe(throttled.headers['request-id']);
    // A cheaper request still fits in what is left.
    expect((await graphCall(t, '/users?$select=id', token)).status).toBe(200);
  });

  it('charges each $batch step on its own: the steps past the budget fail with their own 429', async () => {
    const ids = t.emulator.store.generateUsers(contoso, 20);
    t.emulator.store.updateGraphSettings({ resourceUnitsPer10s: 12 });
    const requests = ids.map((id, i) => ({
      id: String(i + 1),
      method: 'GET',
      url: `/users/${id}?$select=id`,
    }));
    const res = await graphCall(t, '/$batch', token, { body: { requests } });
    expect(res.status).toBe(200);
    const responses = json<{ responses: { id: string; status: number; headers: Record<string, string> }[] }>(
      res,
    ).responses;
    expect(responses.filter((r) => r.status === 200)).toHaveLength(12);
    const throttled = responses.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(8);
    for (const step of throttled) expect(Number(step.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
  });

  it('keeps throttling the pair until its budget refills, unless throttling is switched off', async () => {
    t.emulator.store.updateGraphSettings({ resourceUnitsPer10s: 1 });
    expect((await graphCall(t, '/users?$select=id', token)).status).toBe(200);
    expect((await graphCall(t, '/users?$select=id', token)).status).toBe(429);

    const off = await postJson(`${t.emulator.url}/_emulator/graph-settings`, t.ca, { throttling: false });
    expect(off.status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await graphCall(t, '/users?$select=id', token)).status).toBe(200);
    const bad = await postJson(`${t.emulator.url}/_emulator/graph-settings`, t.ca, {
      resourceUnitsPer10s: 0,
    });
    expect(bad.status).toBe(400);
  });

  it('gives a tenant Graph’s budget for its size by default: a large tenant reads 100,000 users unthrottled', async () => {
    t.emulator.store.generateUsers(contoso, 100_000);
    const statuses = new Set<number>();
    let next: string | undefined = '/users?$select=id,accountEnabled&$top=999';
    let pages = 0;
    while (next) {
      const res = await graphCall(t, next, token);
      statuses.add(res.status);
      next = json<{ '@odata.nextLink'?: string }>(res)['@odata.nextLink'];
      pages++;
    }
    expect(pages).toBe(101);
    expect([...statuses]).toEqual([200]);
  });
});
