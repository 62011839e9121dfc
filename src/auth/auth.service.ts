import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MicrosoftIdentityClient } from '../microsoft/microsoft-identity.client.js';
import { InvalidIdTokenError, MicrosoftTokenError } from '../microsoft/microsoft.errors.js';
import { SignInRefusedError } from '../provisioning/provisioning.errors.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { RateLimitedError } from '../rate-limits/rate-limits.errors.js';
import { SignInLimitsService } from '../rate-limits/sign-in-limits.service.js';
import type { SignInErrorCode } from './auth.errors.js';
import { AuthFlowsService } from './auth-flows.service.js';
import { type IssuedSession, SessionsService } from './sessions.service.js';
import { randomToken } from './tokens.js';
const SIGN_IN_SCOPES = ['openid', 'profile', 'email'];
export const SIGN_IN_CALLBACK_PATH = '/auth/microsoft/callback';

export interface StartSignIn {
  returnTo?: string;
  loginHint?: string;
  domainHint?: string;
  /** The browser's existing flow cookie, reused so parallel tabs don't invalidate each other. */
  browserBinding?: string;
  userAgent?: string;
}

export interface CallbackParams {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
  browserBinding?: string;
  userAgent?: string;
}

export type CallbackOutcome =
  | { ok: true; redirectTo: string; session: IssuedSession }
  | { ok: false; redirectTo: string; error: SignInErrorCode; account?: string };

class SignInFailure extends Error {
  constructor(readonly code: SignInErrorCode) {
    super(code);
  }
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly flows: AuthFlowsService,
    private readonly microsoft: MicrosoftIdentityClient,
    private readonly provisioning: ProvisioningService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly limits: SignInLimitsService,
  ) {}

  /** Creates the server side of a redirect (state, nonce, PKCE) and returns Microsoft's authorize URL. */
  async startSignIn(request: StartSignIn): Promise<{ authorizationUrl: string; browserBinding: string }> {
    const browserBinding =
      request.browserBinding && /^[\w-]{43}$/.test(request.browserBinding)
        ? request.browserBinding
        : randomToken();
    const { state, nonce, codeChallenge } = await this.flows.start({
      purpose: 'sign_in',
      returnTo: request.returnTo,
      browserBinding,
    });
    const authorizationUrl = await this.microsoft.authorizationUrl({
      redirectUri: this.redirectUri(SIGN_IN_CALLBACK_PATH),
      scopes: SIGN_IN_SCOPES,
      state,
      nonce,
      codeChallenge,
      loginHint: request.loginHint?.slice(0, 256),
      domainHint: request.domainHint?.slice(0, 256),
    });
    return { authorizationUrl, browserBinding };
  }

  /** Finishes a sign-in. Never throws: every failure becomes a redirect with a stable error code. */
  async completeSignIn(params: CallbackParams): Promise<CallbackOutcome> {
    // The Microsoft account (tenant and object id), once its ID token is valid: refusals count against it.
    let account: string | undefined;
    try {
      const flow = await this.flows.consume('sign_in', params.state, params.browserBinding);
      if (!flow) throw new SignInFailure('invalid_state');
      if (params.error) {
        this.logger.warn(`Microsoft returned ${params.error} to the sign-in callback`);
        throw new SignInFailure(params.error === 'access_denied' ? 'sign_in_cancelled' : 'microsoft_error');
      }
      if (!params.code) throw new SignInFailure('microsoft_error');
      const { idToken } = await this.microsoft.redeemCode({
        code: params.code,
        redirectUri: this.redirectUri(SIGN_IN_CALLBACK_PATH),
        scopes: SIGN_IN_SCOPES,
        codeVerifier: flow.codeVerifier,
        nonce: flow.nonce,
      });
      const claims = await this.microsoft.verifyIdToken(idToken, flow.nonce);
      account = `${claims.tenantId}:${claims.objectId}`;
      await this.limits.assertAccountMayTry(account);
      const { user, outcome } = await this.provisioning.signIn(claims);
      const session = await this.sessions.issue(user.id, params.userAgent);
      await this.audit.record({
        organizationId: user.organizationId,
        actor: { type: 'user', id: user.id },
        action: 'auth.signed_in',
        target: { type: 'user', id: user.id },
        after: { method: 'microsoft', tenantId: claims.tenantId, outcome },
      });
      return { ok: true, redirectTo: this.uiUrl(flow.returnTo), session };
    } catch (error) {
      const code = this.failureCode(error);
      return { ok: false, redirectTo: this.uiUrl(`/sign-in?error=${code}`), error: code, account };
    }
  }

  async signOut(sessionId: string): Promise<void> {
    await this.sessions.revoke(sessionId, 'signed_out');
  }

  private failureCode(error: unknown): SignInErrorCode {
    if (error instanceof SignInFailure) return error.code;
    if (error instanceof RateLimitedError) return 'rate_limited';
    if (error instanceof SignInRefusedError) return error.reason;
    if (error instanceof InvalidIdTokenError) {
      this.logger.warn(`rejected an ID token: ${error.reason}`);
      return 'invalid_id_token';
    }
    if (error instanceof MicrosoftTokenError) {
      this.logger.warn(`code redemption failed: ${error.microsoftError}`);
      return 'microsoft_error';
    }
    this.logger.error(
      `sign-in failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 'server_error';
  }

  private redirectUri(path: string): string {
    return `${this.config.appBaseUrl}${path}`;
  }

  private uiUrl(path: string): string {
    return `${this.config.appUiUrl}${path}`;
  }
}
