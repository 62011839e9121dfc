import { ROLE } from './constants.js';
import type { EmulatorContext } from './context.js';
import {
  authorize,
  badRequest,
  isSelf,
  notFound,
  PERMISSIONS,
  type GraphCall,
  type GraphPrincipal,
  type GraphResult,
  type GraphRoute,
} from './graph-common.js';
import {
  decodeToken,
  encodeToken,
  nextLink,
  pageSize,
  parseDisplayNamePrefix,
  project,
  queryOptions,
  selection,
  type EntityType,
} from './graph-query.js';
import { findTenantUser, meId } from './graph-users.js';
import { isGuid } from './guid.js';
import { derivedGuid } from './tokens.js';
import type { Group, User } from './types.js';

const GROUP_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'description',
  'displayName',
  'groupTypes',
  'mail',
  'mailEnabled',
  'mailNickname',
  'securityEnabled',
  'visibility',
];

const GROUP_TYPE: EntityType = {
  name: 'microsoft.graph.group',
  defaults: GROUP_PROPERTIES,
  properties: GROUP_PROPERTIES,
};

const ROLE_PROPERTIES = ['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId'];

const ROLE_TYPE: EntityType = {
  name: 'microsoft.graph.directoryRole',
  defaults: ROLE_PROPERTIES,
  properties: ROLE_PROPERTIES,
};

/** transitiveMemberOf mixes groups and roles; `$select` may name a property of either. */
const MEMBER_OF_TYPE: EntityType = {
  name: 'microsoft.graph.directoryObject',
  defaults: [],
  properties: [...new Set([...GROUP_TYPE.properties, ...ROLE_TYPE.properties])],
};

const ROLE_NAMES: Record<string, string> = {
  [ROLE.globalAdministrator]: 'Global Administrator',
  [ROLE.privilegedRoleAdministrator]: 'Privileged Role Administrator',
  [ROLE.applicationAdministrator]: 'Application Administrator',
  [ROLE.cloudApplicationAdministrator]: 'Cloud Application Administrator',
  [ROLE.globalReader]: 'Global Reader',
};

function groupProperties(group: Group): Record<string, unknown> {
  return {
    id: group.id,
    deletedDateTime: group.deletedAt?.toISOString() ?? null,
    classification: null,
    description: null,
    displayName: group.displayName,
    groupTypes: [],
    mail: null,
    mailEnabled: group.mailEnabled,
    mailNickname: group.displayName.replace(/[^A-Za-z0-9]/g, '') || 'group',
    securityEnabled: group.securityEnabled,
    visibility: null,
  };
}

/** An activated directory role is an object of its own in every tenant; its id is stable per tenant. */
export function directoryRoleId(tenantId: string, templateId: string): string {
  return derivedGuid('directoryRole', tenantId.toLowerCase(), templateId.toLowerCase());
}

function roleProperties(tenantId: string, templateId: string): Record<string, unknown> {
  return {
    id: directoryRoleId(tenantId, templateId),
    deletedDateTime: null,
    description: null,
    displayName: ROLE_NAMES[templateId.toLowerCase()] ?? 'Directory role',
    roleTemplateId: templateId,
  };
}

const lower = (g: Group) => g.displayName.toLowerCase();

/** First index whose (lower-cased name, id) sorts after the given key. */
function indexAfter(groups: readonly Group[], name: string, id: string): number {
  let lo = 0;
  let hi = groups.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const n = lower(groups[mid]);
    if (n < name || (n === name && groups[mid].id <= id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose lower-cased name is at least `prefix`: where a startswith range begins. */
function indexFrom(groups: readonly Group[], prefix: string): number {
  let lo = 0;
  let hi = groups.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lower(groups[mid]) < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function groupRoutes(ctx: EmulatorContext): GraphRoute[] {
  const { store } = ctx;

  /** Membership of oneself is always readable; anyone else's needs a group permission. */
  function membershipTarget(principal: GraphPrincipal, idOrUpn: string): User {
    const user = findTenantUser(store, principal, idOrUpn);
    authorize(principal, isSelf(principal, user?.id ?? idOrUpn) ? PERMISSIONS.self : PERMISSIONS.groups);
    if (!user) throw notFound(idOrUpn);
    return user;
  }

  function listGroups({ principal, query, segments }: GraphCall): GraphResult {
    const options = queryOptions(query, ['$select', '$top', '$filter', '$skiptoken']);
    authorize(principal, PERMISSIONS.groups);
    const select = options.get('$select');
    const names = selection(GROUP_TYPE, select);
    const top = pageSize(options.get('$top'));
    const filter = options.get('$filter');
    const prefix = filter === undefined ? '' : parseDisplayNamePrefix(filter).toLowerCase();
    const tenantId = principal.tenant.id.toLowerCase();
    const groups = store.sortedGroups(tenantId);
    const skiptoken = options.get('$skiptoken');
    let i = indexFrom(groups, prefix);
    if (skiptoken !== undefined) {
      const token = decodeToken(skiptoken);
      if (
        token?.k !== 'groups' ||
        token.t !== tenantId ||
        typeof token.n !== 'string' ||
        typeof token.i !== 'string'
      ) {
        throw badRequest('The $skiptoken is invalid.');
      }
      i = Math.max(i, indexAfter(groups, token.n, token.i));
    }
    const inRange = (g: Group) => lower(g).startsWith(prefix);
    const page: Group[] = [];
    for (; i < groups.length && inRange(groups[i]) && page.length < top; i++) {
      if (!groups[i].deletedAt) page.push(groups[i]);
    }
    while (i < groups.length && inRange(groups[i]) && groups[i].deletedAt) i++;
    const last = page[page.length - 1];
    const more = last && i < groups.length && inRange(groups[i]);
    return {
      status: 200,
      body: {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#groups${select === undefined ? '' : `(${names.join(',')})`}`,
        value: page.map((g) => project(groupProperties(g), names)),
        ...(more
          ? {
              '@odata.nextLink': nextLink(
                ctx.baseUrl,
                segments,
                query,
                encodeToken({ k: 'groups', t: tenantId, n: lower(last), i: last.id }),
              ),
            }
          : {}),
      },
    };
  }

  function getGroup({ principal, query }: GraphCall, { id }: Record<string, string>): GraphResult {
    const options = queryOptions(query, ['$select']);
    authorize(principal, PERMISSIONS.groups);
    const names = selection(GROUP_TYPE, options.get('$select'));
    if (!isGuid(id)) throw badRequest(`Invalid object identifier '${id}'.`);
    const group = store.findGroup(id);
    if (!group || group.deletedAt || group.tenantId.toLowerCase() !== principal.tenant.id.toLowerCase()) {
      throw notFound(id);
    }
    return {
      status: 200,
      body: {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#groups/$entity`,
        ...project(groupProperties(group), names),
      },
    };
  }

  function getMemberObjects({ principal, body }: GraphCall, idOrUpn: string): GraphResult {
    const user = membershipTarget(principal, idOrUpn);
    const securityEnabledOnly =
      body && typeof body === 'object' ? (body as Record<string, unknown>).securityEnabledOnly : undefined;
    if (typeof securityEnabledOnly !== 'boolean') {
      throw badRequest("The parameter 'securityEnabledOnly' is missing or is not a boolean.");
    }
    const groups = store
      .transitiveGroupIds(user.id)
      .filter((id) => !securityEnabledOnly || store.findGroup(id)?.securityEnabled);
    const roles = user.directoryRoles.map((r) => directoryRoleId(user.tenantId, r));
    return {
      status: 200,
      body: {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#Collection(Edm.String)`,
        value: [...groups, ...roles],
      },
    };
  }

  /** Groups first (in discovery order), then directory roles; paged by offset. */
  function transitiveMemberOf(call: GraphCall, idOrUpn: string, groupsOnly: boolean): GraphResult {
    const { principal, query, segments } = call;
    const options = queryOptions(query, ['$select', '$top', '$skiptoken']);
    const user = membershipTarget(principal, idOrUpn);
    const select = options.get('$select');
    const names = select === undefined ? undefined : selection(MEMBER_OF_TYPE, select);
    const top = pageSize(options.get('$top'));
    const skiptoken = options.get('$skiptoken');
    let offset = 0;
    if (skiptoken !== undefined) {
      const token = decodeToken(skiptoken);
      if (token?.k !== 'memberOf' || token.u !== user.id.toLowerCase() || typeof token.o !== 'number') {
        throw badRequest('The $skiptoken is invalid.');
      }
      offset = token.o;
    }
    const groupIds = store.transitiveGroupIds(user.id);
    const roleIds = groupsOnly ? [] : user.directoryRoles;
    const total = groupIds.length + roleIds.length;
    const value: Record<string, unknown>[] = [];
    for (let i = offset; i < total && value.length < top; i++) {
      if (i < groupIds.length) {
        const group = store.findGroup(groupIds[i])!;
        value.push({
          '@odata.type': '#microsoft.graph.group',
          ...project(groupProperties(group), names ?? GROUP_TYPE.defaults),
        });
      } else {
        const role = roleProperties(user.tenantId, roleIds[i - groupIds.length]);
        value.push({
          '@odata.type': '#microsoft.graph.directoryRole',
          ...project(role, names ?? ROLE_TYPE.defaults),
        });
      }
    }
    const end = offset + value.length;
    return {
      status: 200,
      body: {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryObjects`,
        value,
        ...(end < total
          ? {
              '@odata.nextLink': nextLink(
                ctx.baseUrl,
                segments,
                query,
                encodeToken({ k: 'memberOf', u: user.id.toLowerCase(), o: end }),
              ),
            }
          : {}),
      },
    };
  }

  const me = (call: GraphCall) => meId(call.principal);
  return [
    { method: 'GET', pattern: '/groups', handle: listGroups },
    { method: 'GET', pattern: '/groups/:id', handle: getGroup },
    { method: 'POST', pattern: '/me/getMemberObjects', handle: (call) => getMemberObjects(call, me(call)) },
    {
      method: 'POST',
      pattern: '/users/:id/getMemberObjects',
      handle: (call, { id }) => getMemberObjects(call, id),
    },
    {
      method: 'GET',
      pattern: '/me/transitiveMemberOf',
      handle: (call) => transitiveMemberOf(call, me(call), false),
    },
    {
      method: 'GET',
      pattern: '/me/transitiveMemberOf/microsoft.graph.group',
      handle: (call) => transitiveMemberOf(call, me(call), true),
    },
    {
      method: 'GET',
      pattern: '/users/:id/transitiveMemberOf',
      handle: (call, { id }) => transitiveMemberOf(call, id, false),
    },
    {
      method: 'GET',
      pattern: '/users/:id/transitiveMemberOf/microsoft.graph.group',
      handle: (call, { id }) => transitiveMemberOf(call, id, true),
    },
  ];
}
