import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ActivationService } from '../../activation/activation.service.js';
import { AuditService, SYSTEM_ACTOR } from '../../audit/audit.service.js';
import { isUuid } from '../../common/uuid.js';
import { OrganizationsService } from '../../organizations/organizations.service.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.js';
import type { User } from '../../users/user-records.js';
import { UsersService } from '../../users/users.service.js';
import {
  applyPatch,
  compileFilter,
  equalityOn,
  FILTER_MAX_RESULTS,
  type FilterAttributeMap,
  normalisePatch,
  parsePaging,
  SCHEMAS,
  ScimError,
} from '../protocol/index.js';
import type { ScimUserEntity } from './entities/scim-user.entity.js';
import {
  etagMatches,
  normalizeUser,
  type NormalizedUser,
  patchableResource,
  toUserResource,
  withoutSecrets,
} from './scim-user-resource.js';
import {
  type ScimUserColumns,
  ScimUserNameTakenError,
  ScimUsersRepository,
  type SignInCandidate,
} from './scim-users.repository.js';

export type { SignInCandidate };

/**
 * What a User filter may name, and the SQL each compiles to over alias `su` (scim_users). `userName`,
 * `externalId`, `emails.value`, `displayName`, `name.givenName`, `name.familyName` (eq) and `meta.lastModified` (gt/ge) are index look-ups within
 * the organization; anything else answers 400 invalidFilter.
 */
export const USER_FILTER_ATTRIBUTES: FilterAttributeMap = {
  id: { type: 'string', sql: 'su.user_id::text', caseExact: true },
  username: { type: 'string', sql: 'su.user_name_lower', indexed: true },
  externalid: { type: 'string', sql: 'su.external_id', caseExact: true, indexed: true },
  'emails.value': { type: 'string', sql: 'su.emails_lower', multi: true, indexed: true },
  // Value paths such as `emails[type eq "work" and value eq "x"]`: each element of the stored list.
  emails: {
    type: 'string',
    sql: "su.attributes->'emails'",
    subAttributes: { value: { type: 'string' }, type: { type: 'string' }, primary: { type: 'boolean' } },
  },
  displayname: { type: 'string', sql: 'su.display_name_lower', indexed: true },
  // Expression indexes (migration 1796610000002) serve these exactly as written here.
  'name.givenname': { type: 'string', sql: "lower(su.attributes->'name'->>'givenName')", indexed: true },
  'name.familyname': { type: 'string', sql: "lower(su.attributes->'name'->>'familyName')", indexed: true },
  active: { type: 'boolean', sql: 'su.active' },
  'meta.lastmodified': { type: 'datetime', sql: 'su.updated_at', indexed: true },
  'meta.created': { type: 'datetime', sql: 'su.created_at', indexed: true },
};

/** A User resource as read, with its version (the ETag). */
export interface ScimUserView {
  id: string;
  version: number;
  resource: Record<string, unknown>;
  /** What the provisioning log should say about this request beyond its status (an adoption, a last owner). */
  notes: string[];
}

export interface ScimUserPage {
  resources: Record<string, unknown>[];
  totalResults: number;
  startIndex: number;
}

const SCIM_ARRIVAL = { route: 'scim', requiresApproval: false } as const;

const notFound = () => new ScimError(404, 'User not found');

/**
 * The SCIM Users resource of an organization. Every product effect goes through the users and activation
 * services: a POST admits the user through the activation policy (SCIM route: no approval, the seat queue
 * when full), `active: false` deactivates (`scim_deactivated`), `active: true` brings a deactivated user back
 * through the policy, DELETE deactivates (`scim_deleted`) and hides the user from SCIM, deleting nothing.
 * Each request is one transaction.
 */
@Injectable()
export class ScimUsersService {
  private readonly logger = new Logger(ScimUsersService.name);

  constructor(
    private readonly repository: ScimUsersRepository,
    private readonly users: UsersService,
    private readonly activation: ActivationService,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `meta.location` base. */
  private get baseUrl(): string {
    return `${this.config.appBaseUrl}/scim/v2`;
  }

  async get(organizationId: string, id: string): Promise<ScimUserView> {
    if (!isUuid(id)) throw notFound();
    const row = await this.repository.findVisible(organizationId, id);
    if (!row) throw notFound();
    return this.view(organizationId, row);
  }

  /**
   * A page of the organization's users matching `filter`. `userName eq "x"` also finds a user of the
   * organization whose email or Microsoft UPN is x and whom SCIM does not manage yet, who is then adopted.
   */
  async list(
    organizationId: string,
    query: { filter?: unknown; startIndex?: unknown; count?: unknown },
  ): Promise<ScimUserPage> {
    const paging = parsePaging(query, FILTER_MAX_RESULTS);
    if (query.filter !== undefined && typeof query.filter !== 'string')
      throw new ScimError(400, 'filter must be given once', 'invalidFilter');
    const filter = query.filter?.trim() ? compileFilter(query.filter, USER_FILTER_ATTRIBUTES, 1) : null;
    const read = () => this.repository.list(organizationId, filter, paging.startIndex - 1, paging.count);
    let page = await read();
    const userName = filter && page.total === 0 ? equalityOn(query.filter as string, 'userName') : undefined;
    if (userName !== undefined && (await this.adoptByUserName(organizationId, userName))) page = await read();
    return {
      resources: page.rows.map((row) => toUserResource(row, row.product, this.baseUrl)),
      totalResults: page.total,
      startIndex: paging.startIndex,
    };
  }

  /**
   * POST: a new user, admitted through the activation policy; or, for a `userName` SCIM deleted earlier, that
   * same product user back; or an existing user of the organization whose email or UPN is the `userName`,
   * adopted. 409 uniqueness when a visible user has the `userName`.
   */
  async create(organizationId: string, body: unknown): Promise<ScimUserView> {
    const user = normalizeUser(body);
    const columns = columnsOf(user, body);
    const notes: string[] = [];
    return this.txHost.withTransaction(async () => {
      // Nearly always a new person: their SCIM row under the user's new id, written in the statement that finds
      // the userName free and nobody to adopt (a userName clash answers 409 here; its reference to the user is
      // checked at commit); then the organization lock, last.
      const id = randomUUID();
      const fresh = await this.repository.insertIfFree(organizationId, id, columns, (organization, address) =>
        this.users.holdersOfAddressQuery(organization, address),
      );
      if (fresh.inserted) return this.admitNew(organizationId, fresh.inserted, user, notes);
      const existing = await this.repository.lockByUserName(organizationId, user.userNameLower);
      if (existing && !existing.deletedAt) throw uniqueness();
      if (existing) {
        const row = await this.repository.update(existing, columns);
        const product = await this.users.get(organizationId, row.userId);
        return this.viewOf(row, await this.applyToProduct(product, user, notes), notes);
      }
      const adoptee = await this.adoptee(organizationId, user.userName);
      if (adoptee) {
        const row = await this.repository.insert(organizationId, adoptee.id, columns);
        await this.recordAdoption(organizationId, adoptee.id, user.userName, notes);
        return this.viewOf(row, await this.applyToProduct(adoptee, user, notes), notes);
      }
      // Everyone holding the userName as an address is managed by SCIM already: a new person after all.
      return this.admitNew(
        organizationId,
        await this.repository.insert(organizationId, id, columns),
        user,
        notes,
      );
    });
  }

  /** The product user of a new SCIM row, admitted through the activation policy under the organization lock. */
  private async admitNew(
    organizationId: string,
    row: ScimUserEntity,
    user: NormalizedUser,
    notes: string[],
  ): Promise<ScimUserView> {
    const { user: created } = await this.activation.admit(organizationId, SCIM_ARRIVAL, (placement) =>
      this.users.createProvisioned({
        id: row.userId,
        organizationId,
        placement,
        email: user.email,
        displayName: user.displayName,
        source: 'scim',
      }),
    );
    const product = user.active ? created : await this.applyActive(created, false, notes);
    return this.viewOf(row, product, notes);
  }

  /** PUT: replaces the resource (never creates: 404). */
  async replace(organizationId: string, id: string, body: unknown, ifMatch?: string): Promise<ScimUserView> {
    const user = normalizeUser(body);
    const notes: string[] = [];
    return this.txHost.withTransaction(async () => {
      const { row: current, user: product } = await this.lockForWrite(organizationId, id, ifMatch);
      const row = await this.repository.update(current, columnsOf(user, body));
      return this.viewOf(row, await this.applyToProduct(product, user, notes), notes);
    });
  }

  /** PATCH: every operation in order, all or nothing. */
  async patch(organizationId: string, id: string, body: unknown, ifMatch?: string): Promise<ScimUserView> {
    const operations = normalisePatch(body);
    const notes: string[] = [];
    return this.txHost.withTransaction(async () => {
      const { row: current, user: product } = await this.lockForWrite(organizationId, id, ifMatch);
      const patched = applyPatch(patchableResource(current), operations);
      const user = normalizeUser(patched);
      const row = await this.repository.update(current, columnsOf(user, body));
      return this.viewOf(row, await this.applyToProduct(product, user, notes), notes);
    });
  }

  /** DELETE: the user is deactivated (`scim_deleted`) and hidden from SCIM; nothing is deleted. */
  async remove(organizationId: string, id: string, ifMatch?: string): Promise<{ notes: string[] }> {
    const notes: string[] = [];
    await this.txHost.withTransaction(async () => {
      const { row, user } = await this.lockForWrite(organizationId, id, ifMatch);
      await this.repository.markDeleted(row);
      await this.deactivate(user, 'scim_deleted', notes);
    });
    return { notes };
  }

  /**
   * SCIM users, in any organization, a first Microsoft sign-in of this account may link to (externalId = oid,
   * or userName / an email = one of its verified addresses); the sign-in checks tenant and links.
   */
  signInCandidates(objectId: string, addresses: string[]): Promise<SignInCandidate[]> {
    return this.repository.signInCandidatesAcrossOrganizations(objectId, addresses);
  }

  /** How many users of the organization SCIM manages. */
  countManaged(organizationId: string): Promise<number> {
    return this.repository.countVisible(organizationId);
  }

  /** For the index tests: PostgreSQL's plan of a filtered list. */
  explainFilter(organizationId: string, filter: string, plan?: 'generic' | 'custom'): Promise<unknown> {
    return this.repository.explainList(
      organizationId,
      compileFilter(filter, USER_FILTER_ATTRIBUTES, 1),
      plan,
    );
  }

  /**
   * The SCIM row, locked, with its product user as it is (read along, not locked: a status change locks the
   * organization, then the user). 404 for an unknown or hidden id, 412 when If-Match names another version.
   */
  private async lockForWrite(
    organizationId: string,
    id: string,
    ifMatch?: string,
  ): Promise<{ row: ScimUserEntity; user: User }> {
    if (!isUuid(id)) throw notFound();
    const found = await this.repository.lockVisibleWithUser(
      organizationId,
      id,
      this.users.userColumnsQuery(),
    );
    if (!found) throw notFound();
    if (ifMatch !== undefined && !etagMatches(ifMatch, found.row.version))
      throw new ScimError(412, 'The resource changed: its version no longer matches If-Match');
    return found;
  }

  /**
   * The directory's word on the product user: their address and name, and whether they may work. Read without
   * a lock (the SCIM row, locked, serialises the directory's writes to this user); the organization lock is
   * taken only by a change of status, after everything else. Returns the user as it now is.
   */
  private async applyToProduct(product: User, user: NormalizedUser, notes: string[]): Promise<User> {
    const { organizationId, id: userId } = product;
    let current = product;
    if (current.email !== user.email.toLowerCase() || current.displayName !== user.displayName) {
      // A status change takes the organization's lock, and every status change takes it before any user row
      // (a seat-queue promotion locks the organization, then the users it seats). Updating the profile first
      // would lock this user before the organization: that order deadlocks with a promotion of this user.
      if (this.changesStatus(current, user.active)) await this.organizations.lock(organizationId);
      current = await this.users.updateProfile(
        organizationId,
        userId,
        { email: user.email, displayName: user.displayName },
        'scim',
      );
    }
    return this.applyActive(current, user.active, notes);
  }

  /** Whether the directory's `active` changes the product user's status (deactivates or readmits them). */
  private changesStatus(current: User, active: boolean): boolean {
    return active ? current.status === 'deactivated' : current.status !== 'deactivated';
  }

  private async applyActive(current: User, active: boolean, notes: string[]): Promise<User> {
    if (!this.changesStatus(current, active)) return current;
    if (!active) return this.deactivate(current, 'scim_deactivated', notes);
    return this.activation.readmit(current.organizationId, current.id, SCIM_ARRIVAL, 'scim');
  }

  /**
   * Deactivates as the directory sync does: the directory is the source of truth, so even the last active
   * owner (a leaver must lose access) — audited and logged loudly.
   */
  private async deactivate(current: User, reason: string, notes: string[]): Promise<User> {
    if (current.status === 'deactivated') return current;
    const { organizationId, id: userId } = current;
    const { user, lastOwnerDeactivated } = await this.users.deactivateAndTell(
      organizationId,
      userId,
      reason,
      SYSTEM_ACTOR,
      { source: 'scim', mayDeactivateLastOwner: true },
    );
    if (!lastOwnerDeactivated) return user;
    notes.push(`deactivated the last active owner of the organization (${reason})`);
    this.logger.error(
      `SCIM DEACTIVATED THE LAST ACTIVE OWNER (${userId}) of organization ${organizationId} (${reason}): nobody ` +
        'can administer the organization until an operator or the directory restores an owner.',
    );
    await this.audit.record({
      organizationId,
      actor: SYSTEM_ACTOR,
      action: 'scim.last_owner_deactivated',
      target: { type: 'user', id: userId },
      after: { reason },
    });
    return user;
  }

  /**
   * The user of the organization whose email or Microsoft UPN is `userName` and whom SCIM does not manage
   * (under another userName, or deleted): not deactivated ones first, then the oldest.
   */
  private async adoptee(organizationId: string, userName: string): Promise<User | null> {
    const candidates = await this.users.findByEmailOrUpn(organizationId, userName);
    const ordered = [
      ...candidates.filter((u) => u.status !== 'deactivated'),
      ...candidates.filter((u) => u.status === 'deactivated'),
    ];
    for (const candidate of ordered)
      if (!(await this.repository.findByUserId(organizationId, candidate.id))) return candidate;
    return null;
  }

  /** Adopts the user a `userName eq` query names (see `list`); false when there is none. */
  private async adoptByUserName(organizationId: string, userName: string): Promise<boolean> {
    // Nearly always nobody (Test Connection, every new user of a first cycle): one read, no transaction.
    if (!(await this.adoptee(organizationId, userName))) return false;
    try {
      return await this.txHost.withTransaction(async () => {
        const adoptee = await this.adoptee(organizationId, userName);
        if (!adoptee) return false;
        const attributes: Record<string, unknown> = {
          schemas: [SCHEMAS.USER],
          userName,
          displayName: adoptee.displayName,
          emails: [{ value: adoptee.email, type: 'work', primary: true }],
        };
        await this.repository.insert(organizationId, adoptee.id, {
          userName,
          userNameLower: userName.toLowerCase(),
          externalId: null,
          displayNameLower: adoptee.displayName.toLowerCase(),
          active: adoptee.status !== 'deactivated',
          emailsLower: [adoptee.email],
          attributes,
          raw: {},
        });
        await this.recordAdoption(organizationId, adoptee.id, userName, []);
        return true;
      });
    } catch (error) {
      // A parallel request adopted (or created) them first: the list read again finds the row.
      if (error instanceof ScimUserNameTakenError) return true;
      throw error;
    }
  }

  private recordAdoption(
    organizationId: string,
    userId: string,
    userName: string,
    notes: string[],
  ): Promise<void> {
    notes.push(`adopted the existing user ${userId}, whose email or Microsoft UPN is the userName`);
    return this.audit.record({
      organizationId,
      actor: SYSTEM_ACTOR,
      action: 'scim.user_adopted',
      target: { type: 'user', id: userId },
      after: { userName },
    });
  }

  private async view(
    organizationId: string,
    row: ScimUserEntity,
    notes: string[] = [],
  ): Promise<ScimUserView> {
    return this.viewOf(row, await this.users.get(organizationId, row.userId), notes);
  }

  /** The resource of a SCIM row and its product user as they now are. */
  private viewOf(row: ScimUserEntity, user: User, notes: string[] = []): ScimUserView {
    return {
      id: row.userId,
      version: row.version,
      notes,
      resource: toUserResource(
        row,
        { status: user.status, pendingReason: user.pendingReason, role: user.role },
        this.baseUrl,
      ),
    };
  }
}

const uniqueness = () => new ScimError(409, 'A user with this userName already exists', 'uniqueness');

function columnsOf(user: NormalizedUser, body: unknown): ScimUserColumns {
  return {
    userName: user.userName,
    userNameLower: user.userNameLower,
    externalId: user.externalId,
    displayNameLower: user.displayNameLower,
    active: user.active,
    emailsLower: user.emailsLower,
    attributes: user.attributes,
    raw: withoutSecrets(body),
  };
}
