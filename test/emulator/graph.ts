import { Router, type NextFunction, type Request, type Response } from 'express';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { GRAPH_APP_ID, GRAPH_RESOURCE } from './constants.js';
import { param, type EmulatorContext } from './context.js';
import { sendGraphError } from './errors.js';
import { isGuid } from './store.js';
import type { Tenant, User } from './types.js';

/** Who is calling, from a validated access token. */
export interface GraphPrincipal {
  tenant: Tenant;
  appId: string;
  /** Absent for app-only tokens. */
  userId?: string;
  scopes: string[];
  roles: string[];
}

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const USER_TYPE = {
  name: 'microsoft.graph.user',
  defaults: [
    'businessPhones',
    'displayName',
    'givenName',
    'jobTitle',
    'mail',
    'mobilePhone',
    'officeLocation',
    'preferredLanguage',
    'surname',
    'userPrincipalName',
    'id',
  ],
};

/** Everything `$select` may name on a user; `accountEnabled` and `userType` only ever come when selected. */
function userProperties(user: User): Record<string, unknown> {
  return {
    businessPhones: [],
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: null,
    mail: user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: user.surname,
    userPrincipalName: user.userPrincipalName,
    id: user.id,
    accountEnabled: user.accountEnabled,
    userType: user.userType,
    deletedDateTime: user.deletedAt?.toISOString() ?? null,
  };
}

/** Applies `$select` (case-insensitive names) or, without it, the type's default property set. */
export function selectProperties(
  type: { name: string; defaults: string[] },
  all: Record<string, unknown>,
  select: string | undefined,
) {
  const wanted = select
    ? select
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : type.defaults;
  const out: Record<string, unknown> = {};
  for (const name of wanted) {
    const key = Object.keys(all).find((k) => k.toLowerCase() === name.toLowerCase());
    if (!key) {
      throw new GraphError(
        400,
        'Request_BadRequest',
        `Could not find a property named '${name}' on type '${type.name}'.`,
      );
    }
    out[key] = all[key];
  }
  return out;
}

const invalidToken = (message: string) => new GraphError(401, 'InvalidAuthenticationToken', message);

function hasAny(granted: string[], wanted: string[]): boolean {
  return granted.some((g) => wanted.some((w) => w.toLowerCase() === g.toLowerCase()));
}

export function graphRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const { store } = ctx;

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

  /** Delegated calls need one of `scopes`, app-only calls one of `roles`. */
  function authorize(principal: GraphPrincipal, need: { scopes: string[]; roles: string[] }): void {
    const ok = principal.userId ? hasAny(principal.scopes, need.scopes) : hasAny(principal.roles, need.roles);
    if (!ok) {
      throw new GraphError(
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    }
  }

  const route =
    (handler: (req: Request, res: Response, principal: GraphPrincipal) => unknown) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        handler(req, res, await authenticate(req));
      } catch (err) {
        if (err instanceof GraphError) sendGraphError(res, err.status, err.code, err.message);
        else next(err);
      }
    };

  router.use((req, res, next) => {
    const requestId = crypto.randomUUID();
    const clientRequestId = req.get('client-request-id');
    res.set('request-id', requestId).set('client-request-id', clientRequestId ?? requestId);
    res.set('x-ms-ags-diagnostic', JSON.stringify({ ServerInfo: { DataCenter: 'Emulator', Slice: 'E' } }));
    next();
  });

  router.get(
    '/organization',
    route((_req, res, principal) => {
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
      res.json({
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#organization`,
        value: [{ id: tenant.id, displayName: tenant.displayName, verifiedDomains: tenant.verifiedDomains }],
      });
    }),
  );

  router.get(
    '/me',
    route((req, res, principal) => {
      if (!principal.userId) {
        throw new GraphError(
          400,
          'BadRequest',
          '/me request is only valid with delegated authentication flow.',
        );
      }
      authorize(principal, {
        scopes: ['User.Read', 'User.ReadWrite', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'],
        roles: [],
      });
      const user = store.findUser(principal.userId);
      if (!user || user.deletedAt) {
        throw new GraphError(
          404,
          'Request_ResourceNotFound',
          `Resource '${principal.userId}' does not exist.`,
        );
      }
      const select = param(req.query, '$select');
      res.json({
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users/$entity`,
        ...selectProperties(USER_TYPE, userProperties(user), select),
      });
    }),
  );

  router.use((req, res) => {
    const segment = req.path.split('/').filter(Boolean)[0] ?? '';
    sendGraphError(res, 400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
  });

  return router;
}
