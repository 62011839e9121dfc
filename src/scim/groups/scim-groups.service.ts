import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Inject, Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { AppConfig } from '../../config/config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { ScimResourceCounts } from '../access/scim-resource-counts.js';
import {
  ROLE_MAPPINGS_CHANGED,
  type RoleMappingsChangedEvent,
} from '../../role-mapping/role-mapping.events.js';
import { RoleMappingService } from '../../role-mapping/role-mapping.service.js';
import { UsersService } from '../../users/users.service.js';
import {
  compileFilter,
  FILTER_MAX_RESULTS,
  type FilterAttributeMap,
  listResponse,
  normalisePatch,
  parsePaging,
  type PatchOperation,
  project,
  SCHEMAS,
  ScimError,
} from '../protocol/index.js';
import type { ScimGroupEntity } from './entities/scim-group.entity.js';
import {
  assertIfMatch,
  describe,
  etagOf,
  isUuid,
  parseDisplayName,
  parseExternalId,
  parseGroupWrite,
  parseMemberList,
  toGroupResource,
} from './group-resource.js';
import { type NewMember, ScimGroupsRepository } from './scim-groups.repository.js';

/** What list filters may name, and the SQL (alias `sg`) each compiles to. */
const GROUP_FILTER_ATTRIBUTES: FilterAttributeMap = {
  id: { type: 'string', sql: 'sg.id::text' },
  displayname: { type: 'string', sql: 'sg.display_name_lower', indexed: true },
  externalid: { type: 'string', sql: 'sg.external_id', caseExact: true, indexed: true },
  // Member ids are lower-case uuids; one group's members are read through the primary key.
  'members.value': {
    type: 'string',
    sql:
      'ARRAY(SELECT m.user_id::text FROM scim_group_members m LEFT JOIN scim_users su ON su.user_id = m.user_id ' +
      'WHERE m.group_id = sg.id AND su.deleted_at IS NULL)',
    multi: true,
  },
  'meta.created': { type: 'datetime', sql: 'sg.created_at' },
  'meta.lastmodified': { type: 'datetime', sql: 'sg.updated_at', indexed: true },
};

/** What a `members[…]` value filter of a PATCH may name (alias `m`, a membership row). */
const MEMBER_FILTER_ATTRIBUTES: FilterAttributeMap = {
  value: { type: 'string', sql: 'm.user_id::text' },
  display: { type: 'string', sql: 'lower(m.display)' },
};

/** How many unknown member ids an error names before it only counts the rest. */
const NAMED_UNKNOWN_IDS = 20;

export interface GroupQuery {
  filter?: string;
  startIndex?: unknown;
  count?: unknown;
  attributes?: string;
  excludedAttributes?: string;
}

/** A written group as the response shows it, and what was ignored (for the provisioning log). */
export interface GroupWriteResult {
  resource: Record<string, unknown>;
  etag: string;
  notes: string[];
}

/**
 * SCIM Groups of an organization: the groups the directory pushes, their members (product users of the
 * organization), and the roles that membership gives through the organization's group → role mappings.
 * Every write runs in one transaction with the group row locked: all of a request or nothing.
 */
@Injectable()
export class ScimGroupsService {
  private readonly baseUrl: string;

  constructor(
    private readonly repository: ScimGroupsRepository,
    private readonly users: UsersService,
    private readonly roleMapping: RoleMappingService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @Inject(APP_CONFIG) config: AppConfig,
    counts: ScimResourceCounts,
  ) {
    this.baseUrl = `${config.appBaseUrl}/scim/v2`;
    // The management status shows how many groups SCIM manages.
    counts.provide('groups', (organizationId) => this.repository.count(organizationId));
  }

  /** A ListResponse page; members are read only when the response returns them. */
  async list(organizationId: string, query: GroupQuery): Promise<object> {
    const { startIndex, count } = parsePaging(query, FILTER_MAX_RESULTS);
    const where = query.filter ? compileFilter(query.filter, GROUP_FILTER_ATTRIBUTES, 1) : null;
    const { groups, total } = await this.repository.list(organizationId, where, startIndex, count);
    const withMembers = returnsMembers(query);
    const members = withMembers
      ? await this.repository.membersOf(
          organizationId,
          groups.map((g) => g.id),
        )
      : null;
    const resources = groups.map((group) =>
      project(
        toGroupResource(group, members?.get(group.id) ?? null, this.baseUrl),
        query.attributes,
        query.excludedAttributes,
      ),
    );
    return listResponse(resources, total, startIndex);
  }

  /** One group (404 when it is not the organization's), with its ETag. */
  async get(
    organizationId: string,
    id: string,
    query: Pick<GroupQuery, 'attributes' | 'excludedAttributes'>,
  ): Promise<{ resource: Record<string, unknown>; etag: string }> {
    const group = await this.find(organizationId, id);
    const members = returnsMembers(query) ? await this.membersOf(group) : null;
    return {
      resource: project(
        toGroupResource(group, members, this.baseUrl),
        query.attributes,
        query.excludedAttributes,
      ),
      etag: etagOf(group.version),
    };
  }

  /** Creates a group with the given members (or none); their roles are re-resolved. */
  async create(organizationId: string, body: unknown): Promise<GroupWriteResult> {
    const notes: string[] = [];
    const write = parseGroupWrite(body, notes);
    return this.txHost.withTransaction(async () => {
      const members = write.members ?? [];
      await this.assertKnownMembers(organizationId, members);
      const group = await this.repository.create(organizationId, {
        displayName: write.displayName,
        externalId: write.externalId,
        raw: asRaw(body),
      });
      const added = await this.repository.addMembers(organizationId, group.id, members);
      await this.resolveRoles(organizationId, added);
      return this.written(group, notes);
    });
  }

  /** Replaces a group (never creates one: 404); members not listed leave it. */
  async replace(
    organizationId: string,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
  ): Promise<GroupWriteResult> {
    const notes: string[] = [];
    const write = parseGroupWrite(body, notes);
    return this.txHost.withTransaction(async () => {
      const group = await this.lock(organizationId, id);
      assertIfMatch(ifMatch, group.version);
      const members = write.members ?? [];
      await this.assertKnownMembers(organizationId, members);
      const externalIdChanged = group.externalId !== write.externalId;
      group.displayName = write.displayName;
      group.externalId = write.externalId;
      const changed = await this.replaceMembers(group, members);
      group.raw = asRaw(body);
      group.version += 1;
      await this.repository.save(group);
      await this.resolveRoles(
        organizationId,
        externalIdChanged
          ? union(
              changed,
              members.map((m) => m.userId),
            )
          : changed,
      );
      return this.written(group, notes);
    });
  }

  /**
   * Applies a PatchOp in order, in one transaction: every Entra form of member add, remove (value array or
   * `members[value eq "…"]`) and replace, displayName and externalId. A member `value` that is not a member
   * list is ignored and named in `notes`.
   */
  async patch(
    organizationId: string,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
  ): Promise<{ etag: string; notes: string[] }> {
    const operations = normalisePatch(body);
    return this.txHost.withTransaction(async () => {
      const group = await this.lock(organizationId, id);
      assertIfMatch(ifMatch, group.version);
      const patch: PatchState = {
        group,
        changed: new Set(),
        touched: false,
        externalIdChanged: false,
        notes: [],
      };
      for (const operation of operations) await this.applyOperation(patch, operation);
      if (patch.touched) {
        group.raw = asRaw(body);
        group.version += 1;
        await this.repository.save(group);
      }
      const affected = [...patch.changed];
      await this.resolveRoles(
        organizationId,
        patch.externalIdChanged
          ? union(affected, await this.repository.memberIds(organizationId, group.id))
          : affected,
      );
      return { etag: etagOf(group.version), notes: patch.notes };
    });
  }

  /** Deletes a group and its memberships; its former members' roles are re-resolved without it. */
  async remove(organizationId: string, id: string, ifMatch: string | undefined): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const group = await this.lock(organizationId, id);
      assertIfMatch(ifMatch, group.version);
      const members = await this.repository.memberIds(organizationId, group.id);
      await this.repository.delete(organizationId, group.id);
      await this.resolveRoles(organizationId, members);
    });
  }

  private async applyOperation(patch: PatchState, operation: PatchOperation): Promise<void> {
    const { path, value } = operation;
    // A path-less operation whose value the normaliser left whole: one operation per attribute.
    if (path === null) {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new ScimError(400, 'A PATCH operation without a path needs an object value.', 'invalidSyntax');
      for (const [key, inner] of Object.entries(value as Record<string, unknown>))
        await this.applyOperation(patch, {
          op: operation.op,
          path: { attribute: key.toLowerCase() },
          value: inner,
        });
      return;
    }
    if (path.schema !== undefined && path.schema.toLowerCase() !== SCHEMAS.GROUP.toLowerCase())
      throw new ScimError(400, `A Group has no attributes of ${path.schema}.`, 'invalidPath');
    const attribute = path.attribute.toLowerCase();
    if (attribute === 'members') return this.applyMemberOperation(patch, operation);
    if (path.subAttribute !== undefined || path.valueFilter !== undefined)
      throw new ScimError(400, `${path.attribute} has no sub-attributes.`, 'invalidPath');
    const { group } = patch;
    switch (attribute) {
      case 'displayname':
        if (operation.op === 'remove')
          throw new ScimError(400, 'displayName is required: it cannot be removed.', 'mutability');
        group.displayName = parseDisplayName(value);
        patch.touched = true;
        return;
      case 'externalid': {
        const externalId = operation.op === 'remove' ? null : parseExternalId(value);
        if (externalId !== group.externalId) patch.externalIdChanged = true;
        group.externalId = externalId;
        patch.touched = true;
        return;
      }
      case 'id':
        // Entra's path-less replace repeats the id; only a different one is an attempt to change it.
        if (value !== group.id) throw new ScimError(400, 'id is read-only.', 'mutability');
        return;
      case 'schemas':
        return;
      default:
        throw new ScimError(400, `A Group has no attribute "${path.attribute}".`, 'invalidPath');
    }
  }

  private async applyMemberOperation(patch: PatchState, operation: PatchOperation): Promise<void> {
    const { group } = patch;
    const { path, value, op } = operation;
    const organizationId = group.organizationId;
    if (path?.subAttribute !== undefined)
      throw new ScimError(400, 'Members are added, replaced or removed whole.', 'invalidPath');
    const filter = path?.valueFilter
      ? compileFilter(path.valueFilter, MEMBER_FILTER_ATTRIBUTES, 2)
      : undefined;
    const record = (users: string[]) => {
      for (const user of users) patch.changed.add(user);
      if (users.length > 0) patch.touched = true;
    };
    if (op === 'remove' && (value === undefined || value === null)) {
      record(
        await this.repository.removeMembers(organizationId, group.id, filter ? { where: filter } : 'all'),
      );
      return;
    }
    const members = parseMemberList(value);
    if (members === null) {
      patch.notes.push(`"${op}" of members ignored: its value, ${describe(value)}, is not a member list`);
      return;
    }
    if (op === 'remove') {
      // Removing someone who is no member (any more) is no error: Entra repeats removals after a failure.
      if (filter) record(await this.repository.removeMembers(organizationId, group.id, { where: filter }));
      record(
        await this.repository.removeMembers(organizationId, group.id, {
          userIds: members.map((m) => m.userId),
        }),
      );
      return;
    }
    await this.assertKnownMembers(organizationId, members);
    if (op === 'add') {
      if (filter) throw new ScimError(400, 'Members are added without a filter.', 'invalidPath');
      record(await this.repository.addMembers(organizationId, group.id, members));
      return;
    }
    // replace: the matched members (or, without a filter, all of them) give way to the given ones.
    if (filter) {
      record(await this.repository.removeMembers(organizationId, group.id, { where: filter }));
      record(await this.repository.addMembers(organizationId, group.id, members));
    } else {
      record(await this.replaceMembers(group, members));
    }
  }

  /** Makes the members exactly `members`; returns the users who joined or left. */
  private async replaceMembers(group: ScimGroupEntity, members: NewMember[]): Promise<string[]> {
    const wanted = new Set(members.map((m) => m.userId));
    const current = await this.repository.memberIds(group.organizationId, group.id);
    const removed = await this.repository.removeMembers(group.organizationId, group.id, {
      userIds: current.filter((id) => !wanted.has(id)),
    });
    const added = await this.repository.addMembers(group.organizationId, group.id, members);
    return [...removed, ...added];
  }

  /**
   * Every member id must be a user of the organization visible through SCIM, or nothing is applied: a 400
   * `invalidValue` naming the unknown ones.
   */
  private async assertKnownMembers(organizationId: string, members: NewMember[]): Promise<void> {
    if (members.length === 0) return;
    const ids = members.map((m) => m.userId);
    const candidates = ids.filter(isUuid);
    const users = await this.users.findMany(organizationId, candidates);
    const hidden = await this.repository.scimDeleted(
      organizationId,
      users.map((u) => u.id),
    );
    const known = new Set(users.map((u) => u.id).filter((id) => !hidden.has(id)));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length === 0) return;
    const named = unknown.slice(0, NAMED_UNKNOWN_IDS).join(', ');
    const more = unknown.length > NAMED_UNKNOWN_IDS ? ` and ${unknown.length - NAMED_UNKNOWN_IDS} more` : '';
    throw new ScimError(400, `Unknown members (no such user): ${named}${more}.`, 'invalidValue');
  }

  /**
   * A mapping was created, changed or deleted: the members of the SCIM groups it concerned (or concerned before
   * the change) get the role the mappings now give, in the mapping's own transaction. SCIM told us their groups,
   * so nobody has to wait for a sign-in; users outside SCIM groups resolve at their next sign-in as before.
   */
  @OnEvent(ROLE_MAPPINGS_CHANGED, { promisify: true, suppressErrors: false })
  async onMappingsChanged(event: RoleMappingsChangedEvent): Promise<void> {
    const members = await this.repository.memberIdsOfEntraGroups(event.organizationId, event.groupIds);
    await this.resolveRoles(event.organizationId, members);
  }

  /**
   * Re-resolves these users' roles from the Entra groups (SCIM groups' externalIds) they are now members of,
   * through the organization's group → role mappings — the rule sign-in applies (Owners never change).
   * Inside the caller's transaction: the membership and the role it gives commit together.
   */
  private async resolveRoles(organizationId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const resolve = await this.roleMapping.resolverFor(organizationId);
    if (!resolve) return;
    const users = await this.users.findMany(organizationId, userIds);
    const groups = await this.repository.externalIdsOfUsers(
      organizationId,
      users.map((u) => u.id),
    );
    // In id order, so two requests re-resolving the same users lock them in the same order (no deadlock).
    for (const user of users.sort((a, b) => a.id.localeCompare(b.id))) {
      if (user.role === 'owner') continue;
      const current = { role: user.role, source: user.roleSource, groupId: user.roleSourceGroupId };
      await this.users.applyMappedRole(user, resolve(current, groups.get(user.id) ?? []), 'scim');
    }
  }

  private async written(group: ScimGroupEntity, notes: string[]): Promise<GroupWriteResult> {
    const saved = (await this.repository.find(group.organizationId, group.id))!;
    return {
      resource: toGroupResource(saved, await this.membersOf(saved), this.baseUrl),
      etag: etagOf(saved.version),
      notes,
    };
  }

  private async membersOf(group: ScimGroupEntity) {
    return (await this.repository.membersOf(group.organizationId, [group.id])).get(group.id)!;
  }

  private async find(organizationId: string, id: string): Promise<ScimGroupEntity> {
    const group = isUuid(id) ? await this.repository.find(organizationId, id.toLowerCase()) : null;
    if (!group) throw notFound(id);
    return group;
  }

  private async lock(organizationId: string, id: string): Promise<ScimGroupEntity> {
    const group = isUuid(id) ? await this.repository.lock(organizationId, id.toLowerCase()) : null;
    if (!group) throw notFound(id);
    return group;
  }
}

interface PatchState {
  group: ScimGroupEntity;
  /** Users who joined or left. */
  changed: Set<string>;
  /** Whether anything changed (the version then moves). */
  touched: boolean;
  externalIdChanged: boolean;
  notes: string[];
}

const notFound = (id: string) => new ScimError(404, `Group ${id} not found.`);

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];

/** The request body kept for support (a Group carries no secrets). */
const asRaw = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/** Whether a response with these `attributes`/`excludedAttributes` includes members. */
function returnsMembers(query: Pick<GroupQuery, 'attributes' | 'excludedAttributes'>): boolean {
  const names = (list?: string) =>
    (list ?? '')
      .split(',')
      .map((a) => a.trim().toLowerCase().replace(`${SCHEMAS.GROUP.toLowerCase()}:`, ''))
      .filter(Boolean);
  // As `project` reads them: `attributes` wins over `excludedAttributes`.
  const wanted = names(query.attributes);
  if (wanted.length > 0) return wanted.some((a) => a === 'members' || a.startsWith('members.'));
  return !names(query.excludedAttributes).includes('members');
}
