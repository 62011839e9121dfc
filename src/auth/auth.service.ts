import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { FlowFailureCode } from '../auth-flows/auth-flows.errors.js';
import { AuthFlowsService, type CallbackParams } from '../auth-flows/auth-flows.service.js';
import { browserBindingHash, issueBrowserBinding } from '../auth-flows/browser-binding.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { SignInRefusedError } from '../provisioning/provisioning.errors.js';
import type { VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import {
  type CompletedSignIn,
  type InvitationOption,
  ProvisioningService,
} from '../provisioning/provisioning.service.js';
import { RateLimitedError } from '../rate-limits/rate-limits.errors.js';
import { SignInLimitsService } from '../rate-limits/sign-in-limits.service.js';
import { type IssuedSession, SessionsService } from '../sessions/sessions.service.js';
import { InvitationNoLongerPendingError, InvitationNotFoundError } from '../users/invitations.errors.js';
import { InvitationChoiceInvalidError, type SignInErrorCode, SignInRefusedProblem } from './auth.errors.js';
import type { InvitationChoiceEntity } from './entities/invitation-choice.entity.js';
import { InvitationChoicesRepository } from './invitation-choices.repository.js';
import { safeReturnTo } from './return-to.js';

const SIGN_IN_SCOPES = ['openid', 'profile', 'email'];
export const SIGN_IN_CALLBACK_PATH = '/auth/microsoft/callback';
/** The UI page that lists the inviting organizations when several invited the address. */
export const CHOOSE_ORGANIZATION_PATH = '/sign-in/choose-organization';
const CHOICE_LIFETIME_MS = 10 * 60_000;

export interface StartSignIn {
  returnTo?: string;
  loginHint?: string;
  domainHint?: string;
  /** The browser's flow cookie; reused only when it is one we issued for a flow still pending. */
  browserBinding?: string;
}

export interface SignInCallback extends CallbackParams {
  browserBinding?: string;
  userAgent?: string;
}

/** A pending organization choice: the cookie value that binds it to this browser, and when it ends. */
export interface IssuedChoice {
  binding: string;
  expiresAt: Date;
}

export type CallbackOutcome = (
  | { ok: true; redirectTo: string; session: IssuedSession }
  /** Several organizations invited the address: the browser goes to the choice page with this cookie. */
  | { ok: true; redirectTo: string; choice: IssuedChoice }
  | { ok: false; redirectTo: string; error: SignInErrorCode; account?: string }
) & {
  /** The flow bound to the browser's cookie finished and no other is pending: the cookie can be cleared. */
  clearFlowCookie: boolean;
};

const FLOW_FAILURE_CODES: Record<FlowFailureCode, SignInErrorCode> = {
  invalid_state: 'invalid_state',
  cancelled: 'sign_in_cancelled',
  consent_required: 'microsoft_error',
  interaction_required: 'microsoft_error',
  microsoft_error: 'microsoft_error',
  invalid_id_token: 'invalid_id_token',
};

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly flows: AuthFlowsService,
    private readonly provisioning: ProvisioningService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly limits: SignInLimitsService,
    private readonly choices: InvitationChoicesRepository,
  ) {}

  /** Starts "Continue with Microsoft": returns Microsoft's authorize URL and the browser's binding. */
  async startSignIn(request: StartSignIn): Promise<{ authorizationUrl: string; browserBinding: string }> {
    const browserBinding = await this.flows.issueBrowserBinding(request.browserBinding);
    const authorizationUrl = await this.flows.start({
      purpose: 'sign_in',
      callbackPath: SIGN_IN_CALLBACK_PATH,
      scopes: SIGN_IN_SCOPES,
      returnTo: safeReturnTo(request.returnTo),
      browserBinding,
      loginHint: request.loginHint,
      domainHint: request.domainHint,
    });
    return { authorizationUrl, browserBinding };
  }

  /** Finishes a sign-in. Never throws: every failure becomes a redirect with a stable error code. */
  async completeSignIn(callback: SignInCallback): Promise<CallbackOutcome> {
    let clearFlowCookie = false;
    // The Microsoft account (tenant and object id), once its ID token is valid: refusals count against it.
    let account: string | undefined;
    try {
      const result = await this.flows.finish('sign_in', callback, { browser: callback.browserBinding });
      clearFlowCookie = result.flow?.releasesBrowserBinding ?? false;
      if (!result.ok) return this.failed(FLOW_FAILURE_CODES[result.code], clearFlowCookie);

      const { claims, flow } = result;
      account = accountOf(claims);
      await this.limits.assertAccountMayTry(account);
      const signedIn = await this.provisioning.signIn(claims);
      if (signedIn.outcome === 'organization_choice_required') {
        const choice = await this.offerChoice(claims, signedIn.invitations, flow.returnTo);
        return { ok: true, redirectTo: this.uiUrl(CHOOSE_ORGANIZATION_PATH), choice, clearFlowCookie };
      }
      const session = await this.startSession(signedIn, claims, callback.userAgent);
      return { ok: true, redirectTo: this.uiUrl(flow.returnTo), session, clearFlowCookie };
    } catch (error) {
      if (error instanceof SignInRefusedError)
        return this.failed(error.reason, clearFlowCookie, account, error.pendingReason);
      if (error instanceof RateLimitedError) return this.failed('rate_limited', clearFlowCookie, account);
      this.logger.error(
        `sign-in failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      return this.failed('server_error', clearFlowCookie);
    }
  }

  /** The organizations that invited the person, for the choice this browser holds (still pending ones only). */
  async listInvitationChoice(
    binding: string | undefined,
  ): Promise<{ expiresAt: Date; invitations: InvitationOption[] }> {
    const choice = await this.openChoice(binding);
    const invitations = await this.provisioning.invitationOptions(claimsOf(choice), choice.invitationIds);
    return { expiresAt: choice.expiresAt, invitations };
  }

  /**
   * Completes the sign-in the choice held, into the organization of `invitationId`, exactly as a sign-in with
   * one invitation does. Refusals are thrown as domain errors (the caller answers JSON, not a redirect).
   */
  async acceptInvitationChoice(
    binding: string | undefined,
    invitationId: string,
    userAgent?: string,
  ): Promise<{ session: IssuedSession; redirectTo: string }> {
    const choice = await this.openChoice(binding);
    if (!choice.invitationIds.includes(invitationId)) throw new InvitationNotFoundError();
    const claims = claimsOf(choice);
    // Checked before the choice is spent: after a revocation the person can still pick another organization.
    if (!(await this.provisioning.invitationOptions(claims, [invitationId])).length)
      throw new InvitationNoLongerPendingError();
    // The account's refusal budget holds here as at the callback (a spent account keeps its choice).
    await this.limits.assertAccountMayTry(accountOf(claims));
    if (!(await this.choices.consume(choice.id))) throw new InvitationChoiceInvalidError();
    const signedIn = await this.provisioning.signIn(claims, invitationId).catch((error: unknown) => {
      // The callback renders refusals into its redirect; these routes answer problem documents instead.
      if (!(error instanceof SignInRefusedError)) throw error;
      if (error.reason === 'invitation_no_longer_pending') throw new InvitationNoLongerPendingError();
      throw new SignInRefusedProblem(error.reason);
    });
    if (!signedIn.user) throw new Error('a chosen invitation cannot ask for another choice');
    const session = await this.startSession(signedIn, claims, userAgent);
    return { session, redirectTo: this.uiUrl(choice.returnTo) };
  }

  async signOut(sessionId: string): Promise<void> {
    await this.sessions.revoke(sessionId, 'signed_out');
  }

  private async startSession(
    { user, outcome }: CompletedSignIn,
    claims: VerifiedIdToken,
    userAgent: string | undefined,
  ): Promise<IssuedSession> {
    const session = await this.sessions.issue(user.id, userAgent);
    await this.audit.record({
      organizationId: user.organizationId,
      actor: { type: 'user', id: user.id },
      action: 'auth.signed_in',
      target: { type: 'user', id: user.id },
      after: { method: 'microsoft', tenantId: claims.tenantId, outcome },
    });
    return session;
  }

  /** Keeps the validated sign-in for ten minutes, bound to this browser by a fresh binding. */
  private async offerChoice(
    claims: VerifiedIdToken,
    invitations: InvitationOption[],
    returnTo: string,
  ): Promise<IssuedChoice> {
    const binding = issueBrowserBinding();
    const expiresAt = new Date(Date.now() + CHOICE_LIFETIME_MS);
    await this.choices.deleteExpired();
    await this.choices.create({
      bindingHash: binding.hash,
      claims,
      invitationIds: invitations.map((invitation) => invitation.invitationId),
      returnTo,
      expiresAt,
    });
    return { binding: binding.value, expiresAt };
  }

  /** The unexpired choice bound to the cookie this browser presented; any other case is the same refusal. */
  private async openChoice(binding: string | undefined): Promise<InvitationChoiceEntity> {
    const hash = browserBindingHash(binding);
    const choice = hash ? await this.choices.findByBindingHash(hash) : null;
    if (!choice || choice.expiresAt.getTime() <= Date.now()) throw new InvitationChoiceInvalidError();
    return choice;
  }

  /** `reason`: why an account is pending (`awaiting_approval`, `awaiting_seat`), so the page can say so. */
  private failed(
    error: SignInErrorCode,
    clearFlowCookie: boolean,
    account?: string,
    reason?: string | null,
  ): CallbackOutcome {
    const query = reason ? `error=${error}&reason=${reason}` : `error=${error}`;
    return { ok: false, redirectTo: this.uiUrl(`/sign-in?${query}`), error, clearFlowCookie, account };
  }

  private uiUrl(path: string): string {
    return `${this.config.appUiUrl}${path}`;
  }
}

/** The stored claims as the provisioning code expects them (jsonb keeps dates as strings). */
function claimsOf(choice: InvitationChoiceEntity): VerifiedIdToken {
  const { authTime } = choice.claims;
  return { ...choice.claims, authTime: authTime ? new Date(authTime) : null };
}

/** The Microsoft account (tenant and object id) whose refusals count against one budget. */
function accountOf(claims: VerifiedIdToken): string {
  return `${claims.tenantId}:${claims.objectId}`;
}
