import { Router, type Request, type Response } from 'express';
import type { EmulatorContext } from './context.js';
import { EmulatorInputError } from './errors.js';
import { DEMO } from './fixture.js';
import { describeJob } from './provisioning-jobs.js';

type Body = Record<string, unknown>;

function body(req: Request): Body {
  const value: unknown = req.body;
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new EmulatorInputError('JSON object expected');
  }
  return value as Body;
}

function optional<T>(b: Body, key: string, type: 'string' | 'number' | 'boolean'): T | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== type) throw new EmulatorInputError(`${key} must be a ${type}`);
  return v as T;
}

/**
 * The simulated Entra provisioning service and the application assignments it reads, under `/_emulator`:
 * `GET/POST /assignments`, `DELETE /assignments/{tenantId}/{clientId}/{principalId}`, and
 * `/provisioning/jobs` (create: Test Connection and, with `cycle: true`, the initial cycle; `GET`, `PATCH
 * {status}`, `DELETE`, `POST …/test-connection`, `POST …/cycles`, `GET …/log`). Tenant and application default
 * to Contoso and the demo app registration.
 */
export function provisioningRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const { store, provisioning } = ctx;
  const send =
    (handler: (req: Request) => unknown, status = 200) =>
    async (req: Request, res: Response) => {
      res.status(status).json((await handler(req)) ?? { ok: true });
    };

  router.get(
    '/assignments',
    send(() => store.assignments),
  );
  router.post(
    '/assignments',
    send((req) => {
      const b = body(req);
      const principalId = optional<string>(b, 'principalId', 'string');
      if (!principalId) throw new EmulatorInputError('principalId is required');
      return store.assignToApp({
        tenantId: optional<string>(b, 'tenantId', 'string') ?? DEMO.tenants.contoso.id,
        clientId: optional<string>(b, 'clientId', 'string') ?? DEMO.client.clientId,
        principalId,
      });
    }, 201),
  );
  router.delete(
    '/assignments/:tenantId/:clientId/:principalId',
    send((req) => {
      const { tenantId, clientId, principalId } = req.params as Record<string, string>;
      if (!store.unassignFromApp(tenantId, clientId, principalId)) {
        throw new EmulatorInputError('no such assignment');
      }
    }),
  );

  router.get(
    '/provisioning/jobs',
    send(() => store.provisioningJobs.all.map((job) => describeJob(job))),
  );
  router.post(
    '/provisioning/jobs',
    send(async (req) => {
      const b = body(req);
      const tenantUrl = optional<string>(b, 'tenantUrl', 'string');
      const token = optional<string>(b, 'token', 'string');
      if (!tenantUrl || !token) throw new EmulatorInputError('tenantUrl and token are required');
      const interval = optional<number>(b, 'intervalSeconds', 'number');
      const job = provisioning.createJob({
        tenantUrl,
        token,
        tenantId: optional<string>(b, 'tenantId', 'string') ?? DEMO.tenants.contoso.id,
        clientId: optional<string>(b, 'clientId', 'string') ?? DEMO.client.clientId,
        userExternalId: optional(b, 'userExternalId', 'string'),
        concurrency: optional(b, 'concurrency', 'number'),
      });
      const testConnection = await provisioning.testConnection(job.id);
      // Like the admin center: a failed Test Connection does not start provisioning.
      const cycle =
        testConnection.ok && optional<boolean>(b, 'cycle', 'boolean')
          ? await provisioning.runCycle(job.id)
          : null;
      if (testConnection.ok && interval !== undefined) provisioning.startInterval(job.id, interval);
      return { job: describeJob(job), testConnection, cycle };
    }, 201),
  );
  router.get(
    '/provisioning/jobs/:id',
    send((req) => describeJob(provisioning.job(String(req.params.id)), { log: req.query.log !== undefined })),
  );
  router.patch(
    '/provisioning/jobs/:id',
    send((req) => {
      const b = body(req);
      const id = String(req.params.id);
      const status = optional<string>(b, 'status', 'string');
      const token = optional<string>(b, 'token', 'string');
      if (status !== undefined && status !== 'on' && status !== 'off') {
        throw new EmulatorInputError('status must be on or off');
      }
      if (token !== undefined) provisioning.setToken(id, token);
      if (status !== undefined) provisioning.setStatus(id, status);
      return describeJob(provisioning.job(id));
    }),
  );
  router.delete(
    '/provisioning/jobs/:id',
    send((req) => {
      if (!provisioning.removeJob(String(req.params.id)))
        throw new EmulatorInputError('no such provisioning job');
    }),
  );
  router.post(
    '/provisioning/jobs/:id/test-connection',
    send((req) => provisioning.testConnection(String(req.params.id))),
  );
  router.post(
    '/provisioning/jobs/:id/cycles',
    send((req) => provisioning.runCycle(String(req.params.id))),
  );
  router.get(
    '/provisioning/jobs/:id/log',
    send((req) => {
      const log = provisioning.job(String(req.params.id)).log;
      const cycle = req.query.cycle === undefined ? undefined : Number(req.query.cycle);
      return cycle === undefined ? log : log.filter((e) => e.cycle === cycle);
    }),
  );
  return router;
}
