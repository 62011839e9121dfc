import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { EmulatorContext } from './context.js';
import { provisioningRouter } from './provisioning-routes.js';
import { EmulatorInputError, type NewUser, type UserPatch } from './store.js';
import type { FaultRule, IdTokenOverride, UserType } from './types.js';

type Body = Record<string, unknown>;

function body(req: Request): Body {
  const value: unknown = req.body;
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new EmulatorInputError('JSON object expected');
  }
  return value as Body;
}

function str(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new EmulatorInputError(`${key} must be a string`);
  return v;
}

function requiredStr(b: Body, key: string): string {
  const v = str(b, key);
  if (!v) throw new EmulatorInputError(`${key} is required`);
  return v;
}

function nullableStr(b: Body, key: string): string | null | undefined {
  return b[key] === null ? null : str(b, key);
}

function bool(b: Body, key: string): boolean | undefined {
  const v = b[key];
  if (v !== undefined && typeof v !== 'boolean') throw new EmulatorInputError(`${key} must be a boolean`);
  return v;
}

function num(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw new EmulatorInputError(`${key} must be a number`);
  }
  return v;
}

function strArray(b: Body, key: string): string[] | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new EmulatorInputError(`${key} must be an array of strings`);
  }
  return v as string[];
}

function requiredStrArray(b: Body, key: string): string[] {
  const v = strArray(b, key);
  if (!v) throw new EmulatorInputError(`${key} is required`);
  return v;
}

function userType(b: Body): UserType | undefined {
  const v = str(b, 'userType');
  if (v !== undefined && v !== 'Member' && v !== 'Guest') {
    throw new EmulatorInputError('userType must be Member or Guest');
  }
  return v;
}

function userPatch(b: Body): UserPatch {
  return {
    userPrincipalName: str(b, 'userPrincipalName'),
    displayName: str(b, 'displayName'),
    givenName: nullableStr(b, 'givenName'),
    surname: nullableStr(b, 'surname'),
    mail: nullableStr(b, 'mail'),
    accountEnabled: bool(b, 'accountEnabled'),
    userType: userType(b),
    homeTenantId: nullableStr(b, 'homeTenantId'),
    directoryRoles: strArray(b, 'directoryRoles'),
  };
}

function idTokenOverride(b: Body): IdTokenOverride {
  const claims = b.claims;
  if (claims !== undefined && (!claims || typeof claims !== 'object' || Array.isArray(claims))) {
    throw new EmulatorInputError('claims must be an object');
  }
  const signature = str(b, 'signature');
  if (signature !== undefined && !['valid', 'foreign-key', 'tampered'].includes(signature)) {
    throw new EmulatorInputError('signature must be valid, foreign-key or tampered');
  }
  return {
    claims: claims as Record<string, unknown> | undefined,
    removeClaims: strArray(b, 'removeClaims'),
    signature: signature as IdTokenOverride['signature'],
  };
}

function fault(b: Body): FaultRule {
  const kind = requiredStr(b, 'kind');
  if (kind !== 'latency' && kind !== 'status' && kind !== 'timeout') {
    throw new EmulatorInputError('kind must be latency, status or timeout');
  }
  const pathRegex = str(b, 'pathRegex');
  const path = pathRegex ? new RegExp(pathRegex) : requiredStr(b, 'path');
  const status = num(b, 'status');
  if (kind === 'status' && (status === undefined || status < 400 || status > 599)) {
    throw new EmulatorInputError('status faults need a 4xx/5xx status');
  }
  const times = b.times === 'always' ? Infinity : num(b, 'times');
  return {
    kind,
    path,
    method: str(b, 'method'),
    delayMs: num(b, 'delayMs'),
    status,
    retryAfter: num(b, 'retryAfter'),
    times,
  };
}

/** JSON control API for out-of-process tests and the dev launcher; thin wrappers over the store. */
export function controlRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const { store } = ctx;
  // Bulk user operations can carry thousands of ids.
  router.use(express.json({ limit: '10mb' }));

  const ok =
    (handler: (req: Request, res: Response) => unknown, status = 200) =>
    (req: Request, res: Response) => {
      res.status(status).json(handler(req, res) ?? { ok: true });
    };

  router.use(provisioningRouter(ctx));

  router.get(
    '/state',
    ok(() => store.snapshot()),
  );
  router.post(
    '/reset',
    ok(() => store.reset()),
  );

  router.post(
    '/tenants',
    ok((req) => {
      const b = body(req);
      const domains = b.verifiedDomains;
      if (domains !== undefined && !Array.isArray(domains)) {
        throw new EmulatorInputError('verifiedDomains must be an array');
      }
      return store.addTenant({
        id: str(b, 'id'),
        displayName: requiredStr(b, 'displayName'),
        verifiedDomains: (domains ?? []).map((d: unknown) => {
          if (typeof d === 'string') return d;
          if (d && typeof d === 'object' && typeof (d as Body).name === 'string') {
            return d as { name: string };
          }
          throw new EmulatorInputError('verifiedDomains entries must be names or {name, ...}');
        }),
      });
    }, 201),
  );

  router.post(
    '/users',
    ok((req) => {
      const b = body(req);
      const input: NewUser = {
        ...userPatch(b),
        id: str(b, 'id'),
        tenantId: requiredStr(b, 'tenantId'),
        userPrincipalName: requiredStr(b, 'userPrincipalName'),
      };
      return store.addUser(input);
    }, 201),
  );
  router.patch(
    '/users/:id',
    ok((req) => store.updateUser(String(req.params.id), userPatch(body(req)))),
  );
  router.delete(
    '/users/:id',
    ok((req) => store.deleteUser(String(req.params.id))),
  );
  router.post(
    '/users/:id/restore',
    ok((req) => store.restoreUser(String(req.params.id))),
  );

  router.post(
    '/users/:id/purge',
    ok((req) => store.purgeUser(String(req.params.id))),
  );
  router.post(
    '/users/generate',
    ok((req) => {
      const b = body(req);
      const count = num(b, 'count');
      if (count === undefined) throw new EmulatorInputError('count is required');
      const ids = store.generateUsers(requiredStr(b, 'tenantId'), count, {
        disabledEvery: num(b, 'disabledEvery'),
        disabledRatio: num(b, 'disabledRatio'),
      });
      return { count: ids.length, ids };
    }, 201),
  );
  router.post(
    '/users/bulk-update',
    ok((req) => {
      const b = body(req);
      return { updated: store.updateUsers(requiredStrArray(b, 'ids'), userPatch(b)) };
    }),
  );
  router.post(
    '/users/bulk-delete',
    ok((req) => ({ deleted: store.deleteUsers(requiredStrArray(body(req), 'ids')) })),
  );

  router.post(
    '/groups',
    ok((req) => {
      const b = body(req);
      return store.addGroup({
        id: str(b, 'id'),
        tenantId: requiredStr(b, 'tenantId'),
        displayName: requiredStr(b, 'displayName'),
        securityEnabled: bool(b, 'securityEnabled'),
        mailEnabled: bool(b, 'mailEnabled'),
      });
    }, 201),
  );
  router.post(
    '/groups/:id/members',
    ok((req) => store.addMember(String(req.params.id), requiredStr(body(req), 'memberId'))),
  );
  router.delete(
    '/groups/:id/members/:memberId',
    ok((req) => {
      if (!store.removeMember(String(req.params.id), String(req.params.memberId))) {
        throw new EmulatorInputError('no such membership');
      }
    }),
  );

  router.post(
    '/keys/rotate',
    ok((req) => ({ kid: ctx.keys.rotate({ dropOld: bool(body(req), 'dropOld') }).kid })),
  );
  router.post(
    '/refresh-tokens/revoke',
    ok((req) => {
      const b = body(req);
      return {
        revoked: store.revokeRefreshTokens({ tenantId: str(b, 'tenantId'), userId: str(b, 'userId') }),
      };
    }),
  );
  router.post(
    '/next-id-token',
    ok((req) => store.setNextIdTokenOverride(idTokenOverride(body(req)))),
  );
  router.post(
    '/consent',
    ok((req) => {
      const decision = requiredStr(body(req), 'decision');
      if (decision !== 'accept' && decision !== 'decline') {
        throw new EmulatorInputError('decision must be accept or decline');
      }
      store.setConsentDecision(decision);
    }),
  );
  router.post(
    '/grants',
    ok((req) => {
      const b = body(req);
      return store.grantConsent(requiredStr(b, 'tenantId'), requiredStr(b, 'clientId'), {
        scopes: strArray(b, 'scopes'),
        roles: strArray(b, 'roles'),
      });
    }),
  );
  router.delete(
    '/grants/:tenantId/:clientId',
    ok((req) => store.revokeConsent(String(req.params.tenantId), String(req.params.clientId))),
  );
  router.post(
    '/faults',
    ok((req) => store.addFault(fault(body(req)))),
  );
  router.delete(
    '/faults',
    ok(() => store.clearFaults()),
  );
  router.post(
    '/graph-settings',
    ok((req) => {
      const b = body(req);
      return store.updateGraphSettings({
        latencyMs: num(b, 'latencyMs'),
        deltaPageSize: num(b, 'deltaPageSize'),
        throttling: bool(b, 'throttling'),
        resourceUnitsPer10s: b.resourceUnitsPer10s === null ? null : num(b, 'resourceUnitsPer10s'),
      });
    }),
  );
  router.get(
    '/graph-stats',
    ok(() => ({ requests: store.graphRequestCount(), settings: store.graphSettings })),
  );
  router.post(
    '/graph-stats/reset',
    ok(() => store.resetGraphRequestCount()),
  );
  router.post(
    '/delta-tokens/expire',
    ok(() => store.expireDeltaTokens()),
  );
  router.post(
    '/clock',
    ok((req) => {
      const ms = num(body(req), 'advanceMs');
      if (ms === undefined || ms < 0) throw new EmulatorInputError('advanceMs must be a non-negative number');
      store.advanceClock(ms);
      return { now: new Date(store.now()).toISOString() };
    }),
  );

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof EmulatorInputError || err instanceof SyntaxError) {
      res.status(400).json({ error: err.message });
      return;
    }
    next(err);
  });
  router.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'unknown control route' });
  });

  return router;
}
