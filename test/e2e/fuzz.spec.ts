import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { DEMO } from '@entra-integration/entra-emulator';
import {
  contractViolation,
  type FuzzRequest,
  FuzzGenerators,
  type OpenApiDocument,
  type Operation,
  operationsOf,
} from '../support/openapi-fuzz.js';
import { addMember } from '../support/seed.js';
import { bearer, connectTenant, signIn } from '../support/sign-in.js';
import { syncNow } from '../support/sync.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

const document = JSON.parse(
  readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'),
) as OpenApiDocument;

// Fixed, so a failure reproduces; FUZZ_SEED / FUZZ_RUNS explore further by hand.
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_901);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 70);
// These end the setup (the session, the connection): fuzzed last, fewer times.
const FINAL = ['signOut', 'disconnectEntra'];

describe('OpenAPI-driven fuzzing: no input produces a 5xx, a stack trace or an uncoded error', () => {
  let ctx: TestContext;
  let token: string;
  let generators: FuzzGenerators;

  beforeAll(async () => {
    ctx = await createTestContext();
    const signedIn = await signIn(ctx, DEMO.users.adele.upn);
    token = signedIn.token!;
    const me = (await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200)).body;
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(me.organizationId, { plan: 'enterprise', seatLimit: 500 }, SYSTEM_ACTOR);
    expect((await connectTenant(ctx, token, DEMO.users.adele.upn)).status).toBe('connected');
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(token))
      .send({ autoProvisionUsers: true, groupRoleMapping: true, autoDeprovisionSync: true })
      .expect(200);
    const contoso = DEMO.tenants.contoso.id;
    const megan = await addMember(ctx, me.organizationId, DEMO.users.megan, contoso, 'employee');
    const run = await syncNow(ctx, token);
    const invitation = await ctx
      .http()
      .post('/api/v1/invitations')
      .set(bearer(token))
      .send({ email: 'fuzz.invitee@contoso.com', role: 'employee' })
      .expect(201);
    const mapping = await ctx
      .http()
      .post('/api/v1/integrations/entra/group-role-mappings')
      .set(bearer(token))
      .send({ groupId: DEMO.groups.engineering.id, role: 'manager' })
      .expect(201);
    // Real cursors, so that valid ones are fuzzed too (limit=1 yields a next page wherever there are two rows).
    const cursors: string[] = [];
    for (const list of ['/api/v1/audit-events', '/api/v1/users', '/api/v1/invitations']) {
      const page = await ctx.http().get(`${list}?limit=1`).set(bearer(token)).expect(200);
      if (page.body.nextCursor) cursors.push(page.body.nextCursor as string);
    }
    // Links to the real Graph host that Graph never issued (the group search's cursor is a Graph link).
    for (const query of ['$filter=nonsense', '$skiptoken=forged', '$top=%zz'])
      cursors.push(
        Buffer.from(`${ctx.config.entra.graphBaseUrl}/v1.0/groups?${query}`).toString('base64url'),
      );
    generators = new FuzzGenerators(document, {
      // Never the owner's own id: deactivating or demoting themselves would end the setup, not test it.
      ids: [megan, run.id, invitation.body.id, mapping.body.id, DEMO.groups.itAdmins.id],
      cursors,
    });
  });
  afterAll(() => ctx?.close());

  async function send(operation: Operation, input: FuzzRequest) {
    const url = input.query ? `${input.path}?${input.query}` : input.path;
    const method = operation.method as 'get' | 'post' | 'put' | 'patch' | 'delete';
    let request = ctx.http()[method](url).set(bearer(token)).redirects(0);
    if (input.body) {
      // Serialised here, so that top-level primitives and null are sent as JSON too.
      const text = 'raw' in input.body ? input.body.raw : JSON.stringify(input.body.json);
      const type = ('type' in input.body && input.body.type) || 'application/json';
      request = request.set('Content-Type', type).send(text);
    }
    return request;
  }

  async function fuzz(operations: Operation[], runs: number) {
    const failures = new Map<string, string>();
    let sent = 0;
    for (const operation of operations) {
      const inputs = fc.sample(generators.request(operation), { seed: SEED, numRuns: runs });
      for (const input of inputs) {
        const response = await send(operation, input);
        sent++;
        const violation = contractViolation(response);
        const key = `${operation.operationId}: ${violation}`;
        if (violation && !failures.has(key)) {
          failures.set(
            key,
            `${JSON.stringify({ path: input.path, query: input.query, body: input.body }).slice(0, 300)} -> ${response.status} ${response.text?.slice(0, 200)}`,
          );
        }
      }
    }
    return { failures: [...failures.entries()].map(([key, example]) => `${key}\n    ${example}`), sent };
  }

  it(
    'answers every operation of the document within its contract, for a few thousand generated requests',
    { timeout: 180_000 },
    async () => {
      const operations = operationsOf(document);
      expect(operations.length).toBeGreaterThan(25);
      const main = await fuzz(
        operations.filter((o) => !FINAL.includes(o.operationId)),
        RUNS_PER_OPERATION,
      );
      const final = await fuzz(
        FINAL.map((id) => operations.find((o) => o.operationId === id)!),
        15,
      );
      expect(main.sent + final.sent).toBeGreaterThan(2000);
      expect([...main.failures, ...final.failures]).toEqual([]);
    },
  );
});
