import express, { type NextFunction, type Request, type Response } from 'express';
import { bearerToken, SCIM_TOKEN_PREFIX } from '../../common/guards.js';
import { SCIM_CONTENT_TYPE, type ScimType, scimErrorBody } from '../protocol/index.js';
import { type ScimResourceType } from './entities/scim-request.entity.js';
import { type ScimLogState, scimLogState, startScimLog, withoutSecrets } from './scim-request-log.js';
import type { ScimRequestRow } from './scim-request-log.repository.js';
import type { ScimRequestLogService } from './scim-request-log.service.js';

export const SCIM_BASE_PATH = '/scim/v2';
/** The largest request body the endpoint reads (what Nest's JSON parser allows too); beyond it, 413. */
export const SCIM_MAX_PAYLOAD_BYTES = 100 * 1024;
/** Entra's switch for RFC-compliant request forms: accepted anywhere, and ignored (both forms are understood). */
const ENTRA_COMPLIANCE_FLAG = 'aadoptscim062020';
const BODY_TYPES = ['application/json', SCIM_CONTENT_TYPE];

/** The endpoint names of RFC 7644, keyed by their lower case: Microsoft's collection sends `/users`. */
const CANONICAL_SEGMENTS = new Map(
  ['Users', 'Groups', 'ServiceProviderConfig', 'ResourceTypes', 'Schemas', 'Me', 'Bulk', '.search'].map(
    (name) => [name.toLowerCase(), name],
  ),
);

/** Answers a SCIM request with the SCIM error schema, and notes it for the provisioning log. */
export function sendScimError(
  request: Request,
  response: Response,
  status: number,
  detail: string,
  scimType?: ScimType,
): void {
  const state = scimLogState(request);
  if (state) Object.assign(state, { scimType, detail });
  if (status === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="scim"');
  response
    .status(status)
    .type(SCIM_CONTENT_TYPE)
    .send(JSON.stringify(scimErrorBody(status, detail, scimType)));
}

/** A path whose endpoint name is already canonical (what Entra sends once it is configured). */
const CANONICAL_PATH = new RegExp(
  `^(?:${SCIM_BASE_PATH})?/(?:${[...CANONICAL_SEGMENTS.values()].map((n) => n.replace('.', '\\.')).join('|')})(?:/|$)`,
);

/** Whether `canonicalScimUrl` would give `url` back as it is: checked first, as most requests need nothing. */
function isCanonicalScimUrl(url: string): boolean {
  const mark = url.indexOf('?');
  if (!CANONICAL_PATH.test(mark < 0 ? url : url.slice(0, mark))) return false;
  if (mark < 0) return true;
  const query = url.slice(mark + 1);
  return (
    query !== '' &&
    !query.startsWith('&') &&
    !query.endsWith('&') &&
    !query.includes('&&') &&
    !query.toLowerCase().includes(ENTRA_COMPLIANCE_FLAG)
  );
}

/** The path below the Tenant URL with its first segment in canonical case, and the query without Entra's flag. */
export function canonicalScimUrl(url: string): string {
  if (isCanonicalScimUrl(url)) return url;
  const [pathname, query = ''] = url.split(/\?(.*)/s, 2);
  const path = pathname.replace(
    /^(\/scim\/v2)?\/([^/]+)/i,
    (whole, base: string | undefined, segment: string) => {
      const canonical = CANONICAL_SEGMENTS.get(segment.toLowerCase());
      return `${base ? SCIM_BASE_PATH : ''}/${canonical ?? segment}`;
    },
  );
  const params = query
    .split('&')
    .filter((pair) => pair && pair.split('=')[0].toLowerCase() !== ENTRA_COMPLIANCE_FLAG);
  return params.length ? `${path}?${params.join('&')}` : path;
}

/** The resource a request addresses by its path (`/Users/{id}`), if any. */
export function resourceOfPath(path: string): { type: ScimResourceType; id: string | null } | null {
  const match = /^\/scim\/v2\/(Users|Groups)(?:\/([^/]+))?\/?$/.exec(path);
  if (!match) return null;
  return {
    type: match[1] === 'Users' ? 'User' : 'Group',
    id: match[2] ? decodeURIComponent(match[2]) : null,
  };
}

/**
 * The edge of `/scim/v2`, before routing: canonical endpoint names, Entra's compliance flag dropped, request
 * bodies as `application/json` or `application/scim+json` only (415 otherwise, 413 beyond the limit), answers
 * as `application/scim+json`, and one provisioning-log entry per request once its response is sent.
 */
export function scimEdge(log: ScimRequestLogService, identify: IdentifyScimToken) {
  const parseScimJson = express.json({ type: SCIM_CONTENT_TYPE, limit: SCIM_MAX_PAYLOAD_BYTES });
  return (request: Request, response: Response, next: NextFunction) => {
    const state = startScimLog(request);
    const mounted = !/^\/scim\/v2(\/|$|\?)/i.test(request.url);
    request.url = mounted
      ? canonicalScimUrl(request.url)
      : canonicalScimUrl(request.url).replace(/^\/scim\/v2/i, SCIM_BASE_PATH);
    response.setHeader('Content-Type', `${SCIM_CONTENT_TYPE}; charset=utf-8`);
    trackScimRequest(request, response, log, identify, state);
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && !BODY_TYPES.includes(type))
      return sendScimError(
        request,
        response,
        415,
        `Send the request body as application/scim+json or application/json${type ? `, not ${type}` : ''}.`,
      );
    if (!hasBody) return next();
    parseScimJson(request, response, next);
  };
}

/** The id of the resource a POST created, from the `Location` it answered with (`…/Users/{id}`). */
function createdId(response: Response): string | null {
  const location = response.getHeader('location');
  if (typeof location !== 'string') return null;
  const id = location.slice(location.lastIndexOf('/') + 1);
  try {
    return id ? decodeURIComponent(id) : null;
  } catch {
    return null;
  }
}

/** The organization and token a presented secret names, in any state; for requests refused before auth. */
export type IdentifyScimToken = (
  secret: string,
) => Promise<{ organizationId: string; tokenId: string } | null>;

/**
 * Writes the provisioning-log entry of a `/scim/v2` request once its response is sent. The edge calls it for
 * every request; the error filter for one refused before the edge ran (a body Nest's JSON parser refused).
 */
export function trackScimRequest(
  request: Request,
  response: Response,
  log: ScimRequestLogService,
  identify: IdentifyScimToken,
  state: ScimLogState = startScimLog(request),
): ScimLogState {
  const started = new Date();
  const entry = (): ScimRequestRow => {
    const path = `${request.baseUrl}${request.path}`;
    const full = /^\/scim\/v2(\/|$)/i.test(path) ? path : `${SCIM_BASE_PATH}${path}`;
    const resource = resourceOfPath(full);
    const query = request.originalUrl.split(/\?(.*)/s, 2)[1];
    return {
      // Called only once the token named the organization.
      organizationId: state.organizationId!,
      tokenId: state.tokenId ?? null,
      method: request.method,
      path: full.slice(SCIM_BASE_PATH.length) || '/',
      query: query ? query.slice(0, 2_000) : null,
      status: response.statusCode,
      scimType: state.scimType ?? null,
      detail: state.detail?.slice(0, 2_000) ?? null,
      resourceType: resource?.type ?? null,
      resourceId: resource?.id ?? (resource ? createdId(response) : null),
      durationMs: Number((process.hrtime.bigint() - state.started) / 1_000_000n),
      requestBody: withoutSecrets(request.body),
      notes: state.notes,
      clientAddress: request.ip ?? null,
      createdAt: started,
    };
  };
  response.on('finish', () => {
    if (state.organizationId) return log.record(entry());
    // Refused before authentication (unknown route, 405, 413, 415): the token still says whose log it is.
    const secret = bearerToken(request);
    if (!secret?.startsWith(SCIM_TOKEN_PREFIX)) return;
    log.record(
      identify(secret).then((owner) => {
        if (!owner) return null;
        Object.assign(state, owner);
        return entry();
      }),
    );
  });
  return state;
}
