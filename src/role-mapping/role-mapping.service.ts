import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuditService } from '../audit/audit.service.js';
import { InvalidCursorError } from '../common/pagination.js';
import type { Principal } from '../common/principal.js';
import { EntraConnectionService } from '../integrations/entra-connection.service.js';
import { GraphClient } from '../microsoft/graph.client.js';
import { GraphRequestError } from '../microsoft/microsoft.errors.js';
import type { VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import type { GroupRoleMappingEntity } from './entities/group-role-mapping.entity.js';
import { MappingNotFoundError, UnknownGroupError } from './role-mapping.errors.js';
import { ROLE_MAPPINGS_CHANGED, type RoleMappingsChangedEvent } from './role-mapping.events.js';
import { RoleMappingRepository } from './role-mapping.repository.js';
import { type CurrentRole, type MappableRole, type ResolvedRole, resolveRole } from './resolve-role.js';

const snapshot = (m: GroupRoleMappingEntity) => ({
  groupId: m.groupId,
  groupDisplayName: m.groupDisplayName,
  role: m.role,
});

/** Entra group → role mappings: their management, and the role they give a user at sign-in. */
@Injectable()
export class RoleMappingService {
  private readonly logger = new Logger(RoleMappingService.name);

  constructor(
    private readonly repository: RoleMappingRepository,
    private readonly integrations: EntraConnectionService,
    private readonly graph: GraphClient,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly events: EventEmitter2,
  ) {}

  async list(organizationId: string): Promise<GroupRoleMappingEntity[]> {
    await this.integrations.requireConnection(organizationId);
    return this.repository.list(organizationId);
  }

  async create(
    principal: Principal,
    input: { groupId: string; role: MappableRole },
  ): Promise<GroupRoleMappingEntity> {
    const group = await this.lookUpGroup(principal.organizationId, input.groupId);
    return this.txHost.withTransaction(async () => {
      const mapping = await this.repository.create(principal.organizationId, {
        groupId: group.id,
        groupDisplayName: group.displayName,
        role: input.role,
        createdByUserId: principal.userId,
      });
      await this.record(principal, 'role_mapping.created', mapping, null, snapshot(mapping));
      await this.changed(principal.organizationId, [mapping.groupId]);
      return mapping;
    });
  }

  async update(
    principal: Principal,
    id: string,
    input: { groupId: string; role: MappableRole },
  ): Promise<GroupRoleMappingEntity> {
    const mapping = await this.get(principal.organizationId, id);
    const before = snapshot(mapping);
    // Re-read the group on every save: it may have been renamed, or the id changed to another group.
    const group = await this.lookUpGroup(principal.organizationId, input.groupId);
    mapping.groupId = group.id;
    mapping.groupDisplayName = group.displayName;
    mapping.role = input.role;
    return this.txHost.withTransaction(async () => {
      const saved = await this.repository.save(mapping);
      await this.record(principal, 'role_mapping.updated', saved, before, snapshot(saved));
      await this.changed(principal.organizationId, [before.groupId, saved.groupId]);
      return saved;
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const mapping = await this.get(principal.organizationId, id);
    await this.txHost.withTransaction(async () => {
      await this.repository.delete(mapping.organizationId, mapping.id);
      await this.record(principal, 'role_mapping.deleted', mapping, snapshot(mapping), null);
      await this.changed(principal.organizationId, [mapping.groupId]);
    });
  }

  /** A page of the tenant's groups (name prefix search), for picking one to map. */
  async searchGroups(organizationId: string, query: { search?: string; cursor?: string }) {
    await this.integrations.requireConnection(organizationId);
    let pageUrl: string | undefined;
    if (query.cursor) {
      try {
        pageUrl = Buffer.from(query.cursor, 'base64url').toString('utf8');
      } catch {
        throw new InvalidCursorError();
      }
    }
    const page = await this.integrations
      .withGraphToken(organizationId, (token) =>
        this.graph.listGroups(token, { search: query.search, pageUrl }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof GraphRequestError)) throw error;
        // A link to our own Graph host whose query Graph refuses was not one Graph issued: the cursor is bad.
        if (error.graphCode === 'invalid_page_link' || (pageUrl && error.status === 400))
          throw new InvalidCursorError();
        throw error;
      });
    return {
      groups: page.groups,
      nextCursor: page.nextPageUrl ? Buffer.from(page.nextPageUrl).toString('base64url') : null,
    };
  }

  /**
   * The role a signing-in user should hold, or null when group mapping is not running for the user's
   * organization or their groups cannot be read (the current role is then kept; nothing is inferred).
   */
  async resolveAtSignIn(
    organizationId: string,
    token: VerifiedIdToken,
    current: CurrentRole,
  ): Promise<ResolvedRole | null> {
    if (current.role === 'owner') return null;
    const resolve = await this.resolverFor(organizationId, token.tenantId);
    if (!resolve) return null;
    const groups = await this.groupsOf(organizationId, token);
    if (groups === null) return null;
    return resolve(current, groups);
  }

  /**
   * How roles resolve from Entra group ids in the organization (`resolveRole` over its mappings, read once
   * for a batch of users), or null when group mapping is not running there: the roles are then kept. Sign-in
   * passes the token's tenant, which must be the connected one; SCIM has none to check (its token names the
   * organization) and passes the group ids the directory pushed.
   */
  async resolverFor(
    organizationId: string,
    tenantId?: string,
  ): Promise<((current: CurrentRole, groupIds: Iterable<string>) => ResolvedRole) | null> {
    const connection = await this.integrations.findByOrganization(organizationId);
    if (!connection?.features.groupRoleMapping) return null;
    if (tenantId !== undefined && connection.tenantId !== tenantId) return null;
    const mappings = await this.repository.list(organizationId);
    return (current, groupIds) => resolveRole(current, groupIds, mappings);
  }

  /** The token's `groups` claim, or Graph's transitive membership when the claim is absent or overflowed. */
  private async groupsOf(organizationId: string, token: VerifiedIdToken): Promise<string[] | null> {
    if (token.groups && !token.groupsOverage) return token.groups;
    try {
      return await this.integrations.withGraphToken(
        organizationId,
        (accessToken) => this.graph.getMemberObjectIds(accessToken, token.objectId),
        'sign_in',
      );
    } catch (error) {
      this.logger.warn(
        `group membership unavailable for a sign-in in ${organizationId}; role kept: ${String(error)}`,
      );
      return null;
    }
  }

  private async lookUpGroup(organizationId: string, groupId: string) {
    await this.integrations.requireConnection(organizationId);
    const group = await this.integrations.withGraphToken(organizationId, (token) =>
      this.graph.getGroup(token, groupId),
    );
    if (!group) throw new UnknownGroupError(groupId);
    return group;
  }

  private async get(organizationId: string, id: string): Promise<GroupRoleMappingEntity> {
    const mapping = await this.repository.findInOrganization(organizationId, id);
    if (!mapping) throw new MappingNotFoundError();
    return mapping;
  }

  /** Lets the roles that the product can re-resolve at once follow the change, in the same transaction. */
  private async changed(organizationId: string, groupIds: string[]): Promise<void> {
    const event: RoleMappingsChangedEvent = { organizationId, groupIds: [...new Set(groupIds)] };
    await this.events.emitAsync(ROLE_MAPPINGS_CHANGED, event);
  }

  private record(
    principal: Principal,
    action: string,
    mapping: GroupRoleMappingEntity,
    before: Record<string, unknown> | null,
    after: Record<string, unknown> | null,
  ) {
    return this.audit.record({
      organizationId: principal.organizationId,
      actor: principal.actor,
      action,
      target: { type: 'group_role_mapping', id: mapping.id },
      before,
      after,
    });
  }
}
