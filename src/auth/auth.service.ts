import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { FlowFailureCode } from '../auth-flows/auth-flows.errors.js';
import { AuthFlowsService, type CallbackParams } from '../auth-flows/auth-flows.service.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { SignInRefusedError } from '../provisioning/provisioning.errors.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { RateLimitedError } from '../rate-limits/rate-limits.errors.js';
import { SignInLimitsService } from '../rate-limits/sign-in-limits.service.js';
import { type IssuedSession, SessionsService } from '../sessions/sessions.service.js';
import type { SignInErrorCode } from './auth.errors.js';
import { safeReturnTo } from './return-to.js';

const SIGN_IN_SCOPES = ['openid', 'profile', 'email'];
export const SIGN_IN_CALLBACK_PATH = '/auth/microsoft/callback';

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

export type CallbackOutcome = (
  | { ok: true; redirectTo: string; session: IssuedSession }
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
      account = `${claims.tenantId}:${claims.objectId}`;
      await this.limits.assertAccountMayTry(account);
      const { user, outcome } = await this.provisioning.signIn(claims);
      const session = await this.sessions.issue(user.id, callback.userAgent);
      await this.audit.record({
        organizationId: user.organizationId,
        actor: { type: 'user', id: user.id },
        action: 'auth.signed_in',
        target: { type: 'user', id: user.id },
        after: { method: 'microsoft', tenantId: claims.tenantId, outcome },
      });
      return { ok: true, redirectTo: this.uiUrl(flow.returnTo), session, clearFlowCookie };
    } catch (error) {
      if (error instanceof SignInRefusedError) return this.failed(error.reason, clearFlowCookie, account);
      if (error instanceof RateLimitedError) return this.failed('rate_limited', clearFlowCookie, account);
      this.logger.error(
        `sign-in failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      return this.failed('server_error', clearFlowCookie);
    }
  }

  async signOut(sessionId: string): Promise<void> {
    await this.sessions.revoke(sessionId, 'signed_out');
  }

  private failed(error: SignInErrorCode, clearFlowCookie: boolean, account?: string): CallbackOutcome {
    return { ok: false, redirectTo: this.uiUrl(`/sign-in?error=${error}`), error, clearFlowCookie, account };
  }

  private uiUrl(path: string): string {
    return `${this.config.appUiUrl}${path}`;
  }
}
