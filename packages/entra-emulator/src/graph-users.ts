import type { EmulatorContext } from './context.js';
import {
  authorize,
  badRequest,
  GraphError,
  isSelf,
  notFound,
  PERMISSIONS,
  type GraphPrincipal,
  type GraphRoute,
} from './graph-common.js';
import {
  decodeToken,
  encodeToken,
  nextLink,
  pageSize,
  parseAccountEnabledFilter,
  project,
  queryOptions,
  selection,
  type EntityType,
} from './graph-query.js';
import { isGuid } from './guid.js';
import type { EmulatorStore } from './store.js';
import type { User } from './types.js';

const DEFAULTS = [
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
];

/** `accountEnabled` and `userType` are not defaults: Graph returns them only when selected. */
export const USER_TYPE: EntityType = {
  name: 'microsoft.graph.user',
  defaults: DEFAULTS,
  properties: [...DEFAULTS, 'accountEnabled', 'userType', 'deletedDateTime'],
};

export function userProperties(user: User): Record<string, unknown> {
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

export function userView(user: User, names: readonly string[]): Record<string, unknown> {
  return project(userProperties(user), names);
}

/** `#users(id,accountEnabled)` when selected, as Graph writes its context URLs. */
export function usersContext(baseUrl: string, names: readonly string[], selected: boolean): string {
  return `${baseUrl}/v1.0/$metadata#users${selected ? `(${names.join(',')})` : ''}`;
}

/** A live user of the caller's tenant, by object id or (like Graph) by UPN. */
export function findTenantUser(
  store: EmulatorStore,
  principal: GraphPrincipal,
  idOrUpn: string,
): User | undefined {
  const user = isGuid(idOrUpn)
    ? store.findUser(idOrUpn)
    : idOrUpn.includes('@')
      ? store.directory.findByUpn(idOrUpn)
      : undefined;
  if (!user || user.deletedAt) return undefined;
  return user.tenantId.toLowerCase() === principal.tenant.id.toLowerCase() ? user : undefined;
}

/** `/me` only exists for delegated tokens. */
export function meId(principal: GraphPrincipal): string {
  if (!principal.userId) {
    throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
  }
  return principal.userId;
}

export function userRoutes(ctx: EmulatorContext): GraphRoute[] {
  const { store } = ctx;

  const getUser = (principal: GraphPrincipal, idOrUpn: string, query: URLSearchParams) => {
    const options = queryOptions(query, ['$select']);
    const user = findTenantUser(store, principal, idOrUpn);
    authorize(principal, isSelf(principal, user?.id ?? idOrUpn) ? PERMISSIONS.self : PERMISSIONS.users);
    const names = selection(USER_TYPE, options.get('$select'));
    if (!user) throw notFound(idOrUpn);
    return {
      status: 200,
      body: { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users/$entity`, ...userView(user, names) },
    };
  };

  return [
    {
      method: 'GET',
      pattern: '/me',
      handle: ({ principal, query }) => getUser(principal, meId(principal), query),
    },
    {
      method: 'GET',
      pattern: '/users/:id',
      handle: ({ principal, query }, { id }) => getUser(principal, id, query),
    },
    {
      method: 'GET',
      pattern: '/users',
      handle: ({ principal, query, segments }) => {
        const options = queryOptions(query, ['$select', '$top', '$filter', '$skiptoken']);
        authorize(principal, PERMISSIONS.users);
        const select = options.get('$select');
        const names = selection(USER_TYPE, select);
        const top = pageSize(options.get('$top'));
        const filter = options.get('$filter');
        const enabled = filter === undefined ? undefined : parseAccountEnabledFilter(filter);
        const tenantId = principal.tenant.id;
        const skiptoken = options.get('$skiptoken');
        const from = skiptoken === undefined ? 0 : usersCursor(skiptoken, tenantId);
        const page = store.directory.scan(
          tenantId,
          from,
          top,
          enabled === undefined ? () => true : (u) => u.accountEnabled === enabled,
        );
        return {
          status: 200,
          body: {
            '@odata.context': usersContext(ctx.baseUrl, names, select !== undefined),
            value: page.items.map((u) => userView(u, names)),
            ...(page.next === null
              ? {}
              : {
                  '@odata.nextLink': nextLink(
                    ctx.baseUrl,
                    segments,
                    query,
                    encodeToken({ k: 'users', t: tenantId.toLowerCase(), p: page.next }),
                  ),
                }),
          },
        };
      },
    },
  ];
}

function usersCursor(skiptoken: string, tenantId: string): number {
  const token = decodeToken(skiptoken);
  if (token?.k !== 'users' || token.t !== tenantId.toLowerCase() || typeof token.p !== 'number') {
    throw badRequest('The $skiptoken is invalid.');
  }
  return token.p;
}
