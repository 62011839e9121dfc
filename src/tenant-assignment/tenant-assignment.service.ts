import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { FlowFailureCode } from '../auth-flows/auth-flows.errors.js';
import { AuthFlowsService, type CallbackParams } from '../auth-flows/auth-flows.service.js';
import { type Plan, planIncludes } from '../common/access.js';
import { ValidationFailedError } from '../common/domain-error.js';
import { type Principal, sessionUser } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DomainsClaimedError } from '../domain-claims/domain-claims.errors.js';
import { DomainClaimsService } from '../domain-claims/domain-claims.service.js';
import type { EventSource } from '../events/event-types.js';
import { EventsService } from '../events/events.service.js';
import { EntraConnectionService } from '../integrations/entra-connection.service.js';
import { PERSONAL_ACCOUNT_TENANT_ID, type VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import { tenantAdministratorRole } from '../microsoft/tenant-administrator.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { UsersService } from '../users/users.service.js';
import { isFreshSignIn, normalizeAssignmentDomains } from './domain-rules.js';
import { type TenantAssignmentResponseDto, toTenantAssignmentResponse } from './dto/tenant-assignment.dto.js';
import type { TenantAssignmentEntity } from './entities/tenant-assignment.entity.js';
import type { TenantAssignmentStatus, TenantAssignmentView } from './tenant-assignment-view.js';
import {
  type AssignmentVerificationErrorCode,
  DomainsRequireVerificationError,
  MicrosoftSignInRequiredError,
  TenantAssignmentNotEnabledError,
  VerificationFailure,
} from './tenant-assignment.errors.js';
import { TenantAssignmentRepository } from './tenant-assignment.repository.js';

export const ASSIGNMENT_CALLBACK_PATH = '/auth/microsoft/assignment/callback';
/** Where the UI shows the outcome of a verification. */
export const ASSIGNMENT_SETTINGS_PATH = '/settings/tenant-assignment';
/** The claim source of an allowlist's domains. */
const CLAIM_SOURCE = 'tenant_assignment';
/** The plan tenant assignment needs (or a higher one): on a lower plan it is suspended. */
export const TENANT_ASSIGNMENT_PLAN: Plan = 'team';
/** How recent the verifying administrator's interactive sign-in must be. */
const FRESH_SIGN_IN_MS = 10 * 60_000;
/** A verification signs in and reads the roles; it asks Microsoft for no Graph permission. */
const VERIFICATION_SCOPES = ['openid', 'profile'];

export type { TenantAssignmentStatus, TenantAssignmentView } from './tenant-assignment-view.js';

/** `data` of every `tenant_assignment.*` event (version 1): the REST view of the assignment after the change. */
export interface TenantAssignmentEventData {
  assignment: TenantAssignmentResponseDto;
  removedDomains: string[];
  source: EventSource;
}

/** An assignment that takes sign-ins now (enabled, on a paid plan), as the sign-in decision needs it. */
export interface RunningTenantAssignment {
  tenantId: string;
  domains: string[];
  autoActivate: boolean;
}

export interface AssignmentCallback extends CallbackParams {
  sessionToken?: string;
}

/** What a verification was started for, kept with its redirect flow. */
interface VerificationRequest {
  tenantId: string;
  domains: string[];
  autoActivate: boolean;
}

const VERIFICATION_FAILURE_CODES: Record<FlowFailureCode, AssignmentVerificationErrorCode> = {
  invalid_state: 'invalid_state',
  cancelled: 'verification_cancelled',
  consent_required: 'verification_failed',
  interaction_required: 'verification_failed',
  microsoft_error: 'verification_failed',
  invalid_id_token: 'verification_failed',
};

/**
 * Tenant user assignment: an organization publishes the email domains it owns within its Microsoft tenant,
 * proven once by a fresh sign-in of a tenant administrator, and new sign-ins from that tenant on those
 * domains land in it. The domains are claimed in the one domain registry, so within a tenant a domain
 * belongs to at most one organization whatever claims it.
 */
@Injectable()
export class TenantAssignmentService {
  private readonly logger = new Logger(TenantAssignmentService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: TenantAssignmentRepository,
    private readonly flows: AuthFlowsService,
    private readonly sessions: SessionsService,
    private readonly claims: DomainClaimsService,
    private readonly connections: EntraConnectionService,
    private readonly organizations: OrganizationsService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly outbox: EventsService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {}

  /** The status, with the tenant it is (or would be) for. */
  async getStatus(principal: Principal): Promise<TenantAssignmentView> {
    const assignment = await this.repository.find(principal.organizationId);
    if (!assignment)
      return {
        status: 'disabled',
        tenantId: await this.tenantOf(principal).catch(() => null),
        domains: [],
        autoActivate: false,
        verifiedBy: null,
        verifiedAt: null,
      };
    const { plan } = await this.organizations.get(principal.organizationId);
    return viewOf(assignment, plan);
  }

  /**
   * Save & Verify: validates the domains and checks them against other organizations' claims first, then
   * returns the authorize URL of a fresh sign-in (tenant authority, `prompt=login`, `max_age=0`, no Graph
   * permission) bound to this user and organization. Nothing is enabled until the callback verifies it.
   */
  async startVerification(
    principal: Principal,
    request: { domains: string[]; autoActivate?: boolean },
  ): Promise<string> {
    const tenantId = await this.tenantOf(principal);
    const domains = validDomains(request.domains);
    await this.assertUnclaimed(principal.organizationId, tenantId, domains);
    // Under the organization lock: two Saves at once must not both try to create the row.
    const current = await this.txHost.withTransaction(async () => {
      await this.organizations.lock(principal.organizationId);
      const found = await this.repository.lock(principal.organizationId);
      if (!found)
        await this.repository.create(principal.organizationId, { tenantId, status: 'pending_verification' });
      else if (found.status === 'pending_verification' && found.tenantId !== tenantId) {
        found.tenantId = tenantId;
        await this.repository.save(found);
      }
      return found;
    });
    const context: VerificationRequest = {
      tenantId,
      domains,
      autoActivate: request.autoActivate ?? current?.autoActivate ?? false,
    };
    return this.flows.start({
      purpose: 'assignment_verification',
      callbackPath: ASSIGNMENT_CALLBACK_PATH,
      scopes: VERIFICATION_SCOPES,
      exactScopes: true,
      userId: sessionUser(principal).userId,
      organizationId: principal.organizationId,
      prompt: 'login',
      maxAge: 0,
      tenant: tenantId,
      context: { ...context },
    });
  }

  /**
   * Finishes a verification. Never throws: returns the UI URL with `status=enabled`, or `status=error` and a
   * code, having changed nothing. Only the user who started it, in their own session, can finish it, and
   * only with a fresh sign-in of a tenant administrator (member) of the organization's tenant.
   */
  async completeVerification(
    callback: AssignmentCallback,
  ): Promise<{ redirectTo: string; error: AssignmentVerificationErrorCode | null }> {
    let started: { organizationId: string; userId: string | null } | null = null;
    try {
      const sessionUserId = await this.sessions.userOf(callback.sessionToken);
      const result = await this.flows.finish('assignment_verification', callback, { userId: sessionUserId });
      if (result.flow?.organizationId)
        started = { organizationId: result.flow.organizationId, userId: result.flow.userId };
      if (!result.ok) throw new VerificationFailure(VERIFICATION_FAILURE_CODES[result.code]);
      const { organizationId, userId } = result.flow;
      const request = requestOf(result.flow.context);
      if (!organizationId || !userId || !request) throw new VerificationFailure('invalid_state');
      await this.assertMayVerify(userId, organizationId);

      const { claims } = result;
      if (!isFreshSignIn(claims, new Date(), FRESH_SIGN_IN_MS))
        throw new VerificationFailure('stale_sign_in');
      if (!belongsToTenant(claims, request.tenantId)) throw new VerificationFailure('tenant_mismatch');
      const administrator = tenantAdministratorRole(claims);
      if (!administrator.isAdministrator)
        throw new VerificationFailure(
          administrator.rolesClaimPresent ? 'not_tenant_admin' : 'roles_claim_missing',
        );

      await this.enable(organizationId, userId, request, {
        name: claims.name,
        userPrincipalName: claims.preferredUsername,
        role: administrator.role,
      });
      return { redirectTo: this.settingsPage('status=enabled'), error: null };
    } catch (error) {
      const failure = this.failureOf(error);
      if (started) {
        await this.audit.record({
          organizationId: started.organizationId,
          actor: { type: 'user', id: started.userId },
          action: 'tenant_assignment.verification_failed',
          after: { code: failure.code, ...(failure.domains.length ? { domains: failure.domains } : {}) },
        });
      }
      const query = new URLSearchParams({ status: 'error', code: failure.code });
      if (failure.domains.length) query.set('domains', failure.domains.join(','));
      return { redirectTo: this.settingsPage(query.toString()), error: failure.code };
    }
  }

  /** Removes domains and/or switches auto-activate; adding a domain needs Save & Verify. */
  async update(
    principal: Principal,
    change: { domains?: string[]; autoActivate?: boolean },
  ): Promise<TenantAssignmentView> {
    if (change.domains === undefined && change.autoActivate === undefined)
      throw new ValidationFailedError([{ field: 'body', message: 'give domains or autoActivate to change' }]);
    const wanted = change.domains === undefined ? undefined : validDomains(change.domains);
    return this.txHost.withTransaction(async () => {
      const organization = await this.organizations.lock(principal.organizationId);
      const assignment = await this.repository.lock(principal.organizationId);
      if (!assignment || assignment.status !== 'enabled') throw new TenantAssignmentNotEnabledError();
      const before = { domains: assignment.domains, autoActivate: assignment.autoActivate };
      if (wanted) {
        const added = wanted.filter((d) => !assignment.domains.includes(d));
        if (added.length > 0) throw new DomainsRequireVerificationError(added);
        // Kept in the allowlist's order; the released domains are free for others at once.
        assignment.domains = assignment.domains.filter((d) => wanted.includes(d));
        await this.claimAllowlist(assignment.organizationId, assignment.tenantId, assignment.domains);
      }
      if (change.autoActivate !== undefined) assignment.autoActivate = change.autoActivate;
      const saved = await this.repository.save(assignment);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'tenant_assignment.updated',
        target: { type: 'tenant_assignment', id: principal.organizationId },
        before,
        after: { domains: saved.domains, autoActivate: saved.autoActivate },
      });
      const view = viewOf(saved, organization.plan);
      await this.recordEvent(principal.organizationId, 'tenant_assignment.updated', {
        assignment: toTenantAssignmentResponse(view),
        removedDomains: before.domains.filter((d) => !saved.domains.includes(d)),
        source: 'manual',
      });
      return view;
    });
  }

  /** Disable: the allowlist is cleared and its claims released; users it brought keep their accounts and seats. */
  async disable(principal: Principal): Promise<void> {
    await this.txHost.withTransaction(async () => {
      await this.organizations.lock(principal.organizationId);
      const assignment = await this.repository.lock(principal.organizationId);
      await this.claims.release(principal.organizationId, CLAIM_SOURCE);
      if (!assignment) return;
      await this.repository.delete(principal.organizationId);
      await this.audit.record({
        organizationId: principal.organizationId,
        actor: principal.actor,
        action: 'tenant_assignment.disabled',
        target: { type: 'tenant_assignment', id: principal.organizationId },
        before: { status: assignment.status, tenantId: assignment.tenantId, domains: assignment.domains },
      });
      await this.recordEvent(principal.organizationId, 'tenant_assignment.disabled', {
        assignment: toTenantAssignmentResponse(await this.getStatus(principal)),
        removedDomains: assignment.domains,
        source: 'manual',
      });
    });
  }

  /**
   * The organization's assignment when it takes sign-ins of `tenantId` now: enabled and on a paid plan (a
   * downgrade suspends it, an upgrade resumes it). Null otherwise.
   */
  async runningFor(organizationId: string, tenantId: string): Promise<RunningTenantAssignment | null> {
    const assignment = await this.repository.find(organizationId);
    if (!assignment || assignment.status !== 'enabled') return null;
    if (assignment.tenantId.toLowerCase() !== tenantId.toLowerCase()) return null;
    const { plan } = await this.organizations.get(organizationId);
    if (!planIncludes(plan, TENANT_ASSIGNMENT_PLAN)) return null;
    return {
      tenantId: assignment.tenantId,
      domains: assignment.domains,
      autoActivate: assignment.autoActivate,
    };
  }

  /** Stores the verified allowlist and claims it, all or nothing, at the moment of saving. */
  private async enable(
    organizationId: string,
    userId: string,
    request: VerificationRequest,
    verifiedBy: { name: string | null; userPrincipalName: string | null; role: string },
  ): Promise<void> {
    try {
      await this.txHost.withTransaction(async () => {
        const organization = await this.organizations.lock(organizationId);
        const existing = await this.repository.lock(organizationId);
        const previousDomains = existing?.domains ?? [];
        const before = existing
          ? { status: existing.status, tenantId: existing.tenantId, domains: existing.domains }
          : null;
        await this.claimAllowlist(organizationId, request.tenantId, request.domains);
        const assignment =
          existing ?? (await this.repository.create(organizationId, { tenantId: request.tenantId }));
        assignment.tenantId = request.tenantId;
        assignment.status = 'enabled';
        assignment.domains = request.domains;
        assignment.autoActivate = request.autoActivate;
        assignment.verifiedByUserId = userId;
        assignment.verifiedByName = verifiedBy.name;
        assignment.verifiedByUpn = verifiedBy.userPrincipalName;
        assignment.verifiedByRole = verifiedBy.role;
        assignment.verifiedAt = new Date();
        const saved = await this.repository.save(assignment);
        await this.audit.record({
          organizationId,
          actor: { type: 'user', id: userId },
          action: 'tenant_assignment.enabled',
          target: { type: 'tenant_assignment', id: organizationId },
          before,
          after: {
            tenantId: request.tenantId,
            domains: request.domains,
            autoActivate: request.autoActivate,
            verifiedBy,
          },
        });
        await this.recordEvent(organizationId, 'tenant_assignment.verified', {
          assignment: toTenantAssignmentResponse(viewOf(saved, organization.plan)),
          removedDomains: previousDomains.filter((d) => !request.domains.includes(d)),
          source: 'assignment',
        });
      });
    } catch (error) {
      if (error instanceof DomainsClaimedError)
        throw new VerificationFailure('domains_claimed', error.domains);
      throw error;
    }
  }

  /** A `tenant_assignment.*` event, in the transaction of the change. */
  private recordEvent(
    organizationId: string,
    type: 'tenant_assignment.verified' | 'tenant_assignment.updated' | 'tenant_assignment.disabled',
    data: TenantAssignmentEventData,
  ): Promise<void> {
    return this.outbox.record(organizationId, type, data as unknown as Record<string, unknown>);
  }

  /** Makes `domains` the organization's allowlist claims in the tenant, inside the current transaction. */
  private async claimAllowlist(organizationId: string, tenantId: string, domains: string[]): Promise<void> {
    await this.claims.release(organizationId, CLAIM_SOURCE);
    await this.claims.claim({
      organizationId,
      tenantId,
      source: CLAIM_SOURCE,
      domains: domains.map((name) => ({ name })),
    });
  }

  /** DOMAINS_CLAIMED, before anyone is sent to Microsoft, when another organization of the tenant holds one. */
  private async assertUnclaimed(organizationId: string, tenantId: string, domains: string[]): Promise<void> {
    const conflicts: string[] = [];
    for (const domain of domains) {
      const owner = await this.claims.findOwner(tenantId, domain);
      if (owner && owner.organizationId !== organizationId) conflicts.push(domain);
    }
    if (conflicts.length > 0) throw new DomainsClaimedError(conflicts.sort());
  }

  /**
   * The organization's tenant: its connected Entra tenant, else the tenant of the acting person's Microsoft
   * account (their most recent sign-in). MICROSOFT_SIGN_IN_REQUIRED when they have none.
   */
  private async tenantOf(principal: Principal): Promise<string> {
    const { identities } = await this.users.getMe(principal);
    const work = identities.filter((i) => i.tenantId !== PERSONAL_ACCOUNT_TENANT_ID);
    if (work.length === 0) throw new MicrosoftSignInRequiredError();
    const connection = await this.connections.findByOrganization(principal.organizationId);
    if (connection) return connection.tenantId;
    const latest = [...work].sort(
      (a, b) => (b.lastSignInAt?.getTime() ?? 0) - (a.lastSignInAt?.getTime() ?? 0),
    )[0];
    return latest.tenantId;
  }

  /** The starter must still be an active Owner or Admin of the organization, and it must still be on a paid plan. */
  private async assertMayVerify(userId: string, organizationId: string): Promise<void> {
    const user = await this.users.findById(userId);
    const organization = await this.organizations.get(organizationId);
    const allowed =
      user?.organizationId === organizationId &&
      user.status === 'active' &&
      (user.role === 'owner' || user.role === 'admin') &&
      planIncludes(organization.plan, TENANT_ASSIGNMENT_PLAN);
    if (!allowed) throw new VerificationFailure('invalid_state');
  }

  private failureOf(error: unknown): VerificationFailure {
    if (error instanceof VerificationFailure) return error;
    this.logger.error(
      `tenant assignment verification failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return new VerificationFailure('verification_failed');
  }

  private settingsPage(query: string): string {
    return `${this.config.appUiUrl}${ASSIGNMENT_SETTINGS_PATH}?${query}`;
  }
}

function validDomains(entries: string[]): string[] {
  const { domains, errors } = normalizeAssignmentDomains(entries);
  if (errors.length > 0) throw new ValidationFailedError(errors, 'Some domains cannot be published.');
  if (domains.length === 0)
    throw new ValidationFailedError([{ field: 'domains', message: 'list at least one domain' }]);
  return domains;
}

/** A member account of the tenant: not a personal account, not a guest, not another tenant's. */
function belongsToTenant(claims: VerifiedIdToken, tenantId: string): boolean {
  if (claims.tenantId === PERSONAL_ACCOUNT_TENANT_ID) return false;
  if (claims.tenantId.toLowerCase() !== tenantId.toLowerCase()) return false;
  return !claims.isGuest && !(claims.preferredUsername ?? '').toUpperCase().includes('#EXT#');
}

function requestOf(context: Record<string, unknown> | null): VerificationRequest | null {
  if (!context) return null;
  const { tenantId, domains, autoActivate } = context;
  if (typeof tenantId !== 'string' || typeof autoActivate !== 'boolean' || !Array.isArray(domains))
    return null;
  if (!domains.every((d): d is string => typeof d === 'string')) return null;
  return { tenantId, domains, autoActivate };
}

function viewOf(assignment: TenantAssignmentEntity, plan: Plan): TenantAssignmentView {
  const status: TenantAssignmentStatus =
    assignment.status === 'enabled' && !planIncludes(plan, TENANT_ASSIGNMENT_PLAN)
      ? 'suspended'
      : assignment.status;
  return {
    status,
    tenantId: assignment.tenantId,
    domains: assignment.domains,
    autoActivate: assignment.autoActivate,
    verifiedBy: assignment.verifiedAt
      ? {
          name: assignment.verifiedByName,
          userPrincipalName: assignment.verifiedByUpn,
          role: assignment.verifiedByRole,
        }
      : null,
    verifiedAt: assignment.verifiedAt,
  };
}
