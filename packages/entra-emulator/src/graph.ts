import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { GRAPH_APP_ID, GRAPH_RESOURCE } from './constants.js';
import type { EmulatorContext } from './context.js';
import { sendGraphError } from './errors.js';
import { batchRunner } from './graph-batch.js';
import {
  authorize,
  GraphError,
  type GraphCall,
  type GraphPrincipal,
  type GraphRoute,
} from './graph-common.js';
import { deltaRoutes } from './graph-delta.js';
import { groupRoutes } from './graph-groups.js';
import { GraphRoutes, pathSegments } from './graph-routes.js';
import { GraphThrottle } from './graph-throttling.js';
import { userRoutes } from './graph-users.js';
import { isGuid } from './guid.js';

export type { GraphPrincipal } from './graph-common.js';

const invalidToken = (message: string) => new GraphError(401, 'InvalidAuthenticationToken', message);

function organizationRoute(ctx: EmulatorContext): GraphRoute {
  return {
    method: 'GET',
    pattern: '/organization',
    handle: ({ principal }) => {
      authorize(principal, {
        scopes: ['User.Read', 'User.Read.All', 'Organization.Read.All', 'Directory.Read.All'],
        roles: [
          'Organization.Read.All',
          'Organization.ReadWrite.All',
          'Directory.Read.All',
          'Directory.ReadWrite.All',
        ],
      });
      const { tenant } = principal;
      return {
        status: 200,
        body: {
          '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#organization`,
          value: [
            { id: tenant.id, displayName: tenant.displayName, verifiedDomains: tenant.verifiedDomains },
          ],
        },
      };
    },
  };
}

/**
 * Counts every HTTP request to /v1.0 and gives it the configured latency: the answer leaves `latencyMs` after
 * the request arrived, as a remote service's does, whatever part of that time the emulator spent computing it
 * (the work is done meanwhile, not added on top).
 */
export function graphMeter(ctx: EmulatorContext) {
  return (_req: Request, res: Response, next: NextFunction) => {
    ctx.store.countGraphRequest();
    const delay = ctx.store.graphSettings.latencyMs;
    if (delay > 0) {
      const due = performance.now() + delay;
      const end = res.end.bind(res) as (...args: unknown[]) => Response;
      res.end = ((...args: unknown[]) => {
        const wait = due - performance.now();
        if (wait <= 0) return end(...args);
        setTimeout(() => end(...args), wait);
        return res;
      }) as Response['end'];
    }
    next();
  };
}

export function graphRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const { store } = ctx;
  const routes = new GraphRoutes([
    organizationRoute(ctx),
    ...deltaRoutes(ctx),
    ...userRoutes(ctx),
    ...groupRoutes(ctx),
  ]);
  const throttle = new GraphThrottle(store);
  const runBatch = batchRunner(ctx, routes, throttle);

  async function authenticate(req: Request): Promise<GraphPrincipal> {
    const header = req.get('authorization') ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (!token) throw invalidToken('Access token is empty.');
    let payload: JWTPayload;
    try {
      const { kid } = decodeProtectedHeader(token);
      const key = kid ? ctx.keys.find(kid) : undefined;
      if (!key) throw invalidToken('Access token validation failure.');
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: ['RS256'],
        audience: [GRAPH_RESOURCE, GRAPH_APP_ID],
        currentDate: new Date(store.now()),
      }));
    } catch (err) {
      if (err instanceof GraphError) throw err;
      if (err instanceof joseErrors.JWTExpired) {
        throw invalidToken('Lifetime validation failed, the token is expired.');
      }
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
        throw invalidToken('Access token validation failure. Invalid audience.');
      }
      throw invalidToken('Access token validation failure.');
    }
    const tid = typeof payload.tid === 'string' ? payload.tid : '';
    const tenant = isGuid(tid) ? store.findTenant(tid) : undefined;
    if (!tenant || payload.iss !== `https://sts.windows.net/${tid}/`) {
      throw invalidToken('Access token validation failure. Invalid issuer.');
    }
    const isApp = payload.idtyp === 'app';
    return {
      tenant,
      appId: String(payload.appid ?? ''),
      userId: isApp ? undefined : String(payload.oid ?? ''),
      scopes: typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [],
      roles: Array.isArray(payload.roles) ? payload.roles.map(String) : [],
    };
  }

  router.use((req, res, next) => {
    const requestId = crypto.randomUUID();
    const clientRequestId = req.get('client-request-id');
    res.set('request-id', requestId).set('client-request-id', clientRequestId ?? requestId);
    res.set('x-ms-ags-diagnostic', JSON.stringify({ ServerInfo: { DataCenter: 'Emulator', Slice: 'E' } }));
    next();
  });
  router.use(express.json({ limit: '4mb' }));

  router.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      const segments = pathSegments(req.path);
      const isBatch = segments.length === 1 && segments[0].toLowerCase() === '$batch';
      if (isBatch && req.method !== 'POST') {
        throw new GraphError(
          405,
          'Request_BadRequest',
          'Specified HTTP method is not allowed for the request target.',
        );
      }
      if (!isBatch) routes.resolve(req.method, segments);
      const call: GraphCall = {
        method: req.method,
        segments,
        query: new URLSearchParams(req.originalUrl.split('?')[1] ?? ''),
        header: (name) => req.get(name),
        body: req.body,
        principal: await authenticate(req),
      };
      // A batch is charged step by step (in the batch runner), never as a whole.
      if (!isBatch) throttle.charge(call.principal, call.method, call.segments, call.query);
      const result = isBatch
        ? await runBatch(call, {
            requestId: String(res.getHeader('request-id')),
            clientRequestId: String(res.getHeader('client-request-id')),
          })
        : routes.dispatch(call);
      res.status(result.status).set(result.headers ?? {});
      if (result.body === undefined) res.end();
      else res.json(result.body);
    } catch (err) {
      if (err instanceof GraphError) sendGraphError(res, err.status, err.code, err.message, err.headers);
      else next(err);
    }
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof SyntaxError) {
      sendGraphError(
        res,
        400,
        'BadRequest',
        'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      );
      return;
    }
    next(err);
  });

  return router;
}
