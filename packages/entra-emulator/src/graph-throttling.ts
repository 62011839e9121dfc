import { GraphError, type GraphPrincipal } from './graph-common.js';
import type { GraphSettings } from './graph-controls.js';
import type { EmulatorStore } from './store.js';

/*
 * The identity service's throttling, as Microsoft documents it in "Microsoft Graph service-specific
 * throttling limits", section "Identity and access service limits"
 * (https://learn.microsoft.com/graph/throttling-limits, source microsoftgraph/microsoft-graph-docs-contrib
 * includes/throttling-identity-and-access.md):
 * - a token bucket per application+tenant pair: 3,500 resource units per 10 seconds for a tenant under 50
 *   users, 5,000 for 50 to 500 users, 8,000 above 500 users; only requests that exceed it are throttled;
 * - base costs: GET `users` 2, `groups/{id}/members` 3, `groups/{id}/transitiveMembers` 5,
 *   `users/{id}/getMemberObjects`, `memberOf`, `transitiveMemberOf` 2 (a `me/` cost applies to
 *   `users/{id}/` too), anything else 1; `$select` takes 1 off, `$expand` adds 1, `$top` below 20 takes 1
 *   off; never below 1;
 * - a throttled request answers `429 Too Many Requests` with a suggested wait in `Retry-After`
 *   ("Microsoft Graph throttling guidance", https://learn.microsoft.com/graph/throttling) and the
 *   `x-ms-throttle-scope` / `x-ms-throttle-information: ResourceUnitLimitExceeded` headers, in Graph's error
 *   envelope with code `TooManyRequests`;
 * - in a `$batch`, each request is evaluated against the limits on its own and a throttled one fails with
 *   its own 429 ("Combine multiple HTTP requests using JSON batching", https://learn.microsoft.com/graph/json-batching).
 */

const WINDOW_MS = 10_000;

/** Resource units of one request, from its method, path below /v1.0 and query options. */
export function resourceUnitCost(
  method: string,
  segments: readonly string[],
  query: URLSearchParams,
): number {
  const path = segments.map((s) => s.toLowerCase().replace(/\(\)$/, ''));
  const get = method.toUpperCase() === 'GET';
  let cost = 1;
  const self = (path[0] === 'me' && path.length === 2) || (path[0] === 'users' && path.length === 3);
  const leaf = path[path.length - 1];
  if (get && path.length === 1 && path[0] === 'users') cost = 2;
  else if (get && path[0] === 'groups' && path.length === 3 && leaf === 'members') cost = 3;
  else if (get && path[0] === 'groups' && path.length === 3 && leaf === 'transitivemembers') cost = 5;
  else if (self && get && (leaf === 'memberof' || leaf === 'transitivememberof')) cost = 2;
  else if (self && !get && (leaf === 'getmemberobjects' || leaf === 'getmembergroups')) cost = 2;
  const options = new Map([...query].map(([k, v]) => [k.toLowerCase(), v]));
  if (options.has('$select')) cost -= 1;
  if (options.has('$expand')) cost += 1;
  const top = Number(options.get('$top') ?? NaN);
  if (Number.isFinite(top) && top < 20) cost -= 1;
  return Math.max(1, cost);
}

/** Graph's budget for one application+tenant pair, by the tenant's number of users. */
export function tenantBudget(users: number): number {
  if (users < 50) return 3_500;
  if (users <= 500) return 5_000;
  return 8_000;
}

interface Bucket {
  tokens: number;
  capacity: number;
  at: number;
}

/** Token buckets per application+tenant pair; a change of the Graph settings (or a reset) starts afresh. */
export class GraphThrottle {
  private buckets = new Map<string, Bucket>();
  private settings?: Readonly<GraphSettings>;

  constructor(private readonly store: EmulatorStore) {}

  /** Charges the request to its pair's bucket, or throws the 429 Graph answers when it would overdraw it. */
  charge(
    principal: GraphPrincipal,
    method: string,
    segments: readonly string[],
    query: URLSearchParams,
  ): void {
    const settings = this.store.graphSettings;
    if (settings !== this.settings) {
      this.settings = settings;
      this.buckets.clear();
    }
    if (!settings.throttling) return;
    const key = `${principal.appId}/${principal.tenant.id.toLowerCase()}`;
    const now = Date.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const users = this.store.directory.scan(principal.tenant.id, 0, 501, () => true).items.length;
      const capacity = settings.resourceUnitsPer10s ?? tenantBudget(users);
      bucket = { tokens: capacity, capacity, at: now };
      this.buckets.set(key, bucket);
    }
    const rate = bucket.capacity / WINDOW_MS;
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    const cost = resourceUnitCost(method, segments, query);
    if (cost <= bucket.tokens) {
      bucket.tokens -= cost;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((cost - bucket.tokens) / rate / 1000));
    throw new GraphError(
      429,
      'TooManyRequests',
      `Too many requests. Please retry after ${retryAfter} seconds.`,
      {
        'Retry-After': String(retryAfter),
        'x-ms-throttle-scope': `Tenant_Application/ReadWrite/${principal.appId}/${principal.tenant.id}`,
        'x-ms-throttle-information': 'ResourceUnitLimitExceeded',
      },
    );
  }
}
