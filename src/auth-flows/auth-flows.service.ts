import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomToken, sha256 } from '../common/tokens.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import {
  type AuthorizePrompt,
  MicrosoftIdentityClient,
  type TokenSet,
  type VerifiedIdToken,
} from '../microsoft/microsoft-identity.client.js';
import { InvalidIdTokenError, MicrosoftTokenError } from '../microsoft/microsoft.errors.js';
import { authorizeErrorCode, type FlowFailureCode } from './auth-flows.errors.js';
import { AuthFlowsRepository } from './auth-flows.repository.js';
import { browserBindingHash, issueBrowserBinding, presentsBrowserBinding } from './browser-binding.js';
import type { AuthFlowEntity, AuthFlowPurpose } from './entities/auth-flow.entity.js';

const FLOW_LIFETIME_MS = 10 * 60_000;

export interface StartFlow {
  purpose: AuthFlowPurpose;
  /** Our callback path for this purpose, e.g. `/auth/microsoft/callback`. */
  callbackPath: string;
  scopes: string[];
  /** Already made safe by the caller (`safeReturnTo`). */
  returnTo?: string;
  /**
   * Who may finish the flow. A browser-bound flow (sign-in) is finished by the browser holding the binding
   * from `issueBrowserBinding`; a user-bound flow (connect) by that signed-in user. One of them is required.
   */
  browserBinding?: string;
  userId?: string;
  organizationId?: string;
  prompt?: AuthorizePrompt;
  maxAge?: number;
  loginHint?: string;
  domainHint?: string;
  /** Authority tenant (`organizations` unless a flow must stay inside one tenant). */
  tenant?: string;
  /** What the callback needs to know about why the flow was started (stored with it, never secrets). */
  context?: Record<string, unknown>;
  /** Request exactly `scopes` (no `offline_access`): for flows that need no refresh token. */
  exactScopes?: boolean;
}

/** What Microsoft sent back to a callback. */
export interface CallbackParams {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
}

/** What the callback request proves about who is finishing the flow. */
export interface FlowBinding {
  /** The browser-binding cookie, if the request carried one. */
  browser?: string | null;
  /** The user of the request's live session, if any. */
  userId?: string | null;
}

/** The server side of a finished flow, without its secrets. */
export interface CompletedFlow {
  purpose: AuthFlowPurpose;
  returnTo: string;
  userId: string | null;
  organizationId: string | null;
  /** The `context` the flow was started with, or null. */
  context: Record<string, unknown> | null;
  /** The authority tenant the flow was started against (`organizations` unless it was pinned). */
  authorityTenant: string;
  /** True when the browser binding this flow used has no other flow pending: the cookie can go. */
  releasesBrowserBinding: boolean;
}

export type FlowResult =
  | { ok: true; flow: CompletedFlow; tokens: TokenSet; claims: VerifiedIdToken }
  /** `flow` is null when the state was not accepted (and nothing was consumed). */
  | { ok: false; code: FlowFailureCode; flow: CompletedFlow | null };

/**
 * One way to run and finish a redirect to Microsoft, whatever it is for (sign-in, tenant connect, tenant
 * assignment's admin verification): state, nonce and PKCE verifier kept in the database for ten minutes (any
 * replica can finish a flow), the callback checked for purpose and binding before the state is spent,
 * Microsoft's errors mapped once, the code redeemed and the ID token validated.
 */
@Injectable()
export class AuthFlowsService {
  private readonly logger = new Logger(AuthFlowsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: AuthFlowsRepository,
    private readonly microsoft: MicrosoftIdentityClient,
  ) {}

  /**
   * The browser binding for a new browser-bound flow: the browser's current one when it is a value we
   * issued for a flow still pending (parallel tabs keep working), else a fresh one. A value the browser made
   * up, or one planted in it, is never adopted.
   */
  async issueBrowserBinding(current: string | undefined): Promise<string> {
    const currentHash = browserBindingHash(current);
    if (current && currentHash && (await this.repository.hasPendingBinding(currentHash))) return current;
    return issueBrowserBinding().value;
  }

  /** Stores the server side of a redirect and returns Microsoft's authorize URL. */
  async start(flow: StartFlow): Promise<string> {
    if (!flow.browserBinding && !flow.userId)
      throw new Error('a redirect flow must be bound to a browser or a user');
    const state = randomToken();
    const nonce = randomToken();
    const pkce = await this.microsoft.generatePkce();
    const redirectUri = `${this.config.appBaseUrl}${flow.callbackPath}`;
    const tenant = flow.tenant ?? 'organizations';
    await this.repository.deleteExpired();
    await this.repository.create({
      stateHash: sha256(state),
      browserBindingHash: flow.browserBinding ? sha256(flow.browserBinding) : null,
      purpose: flow.purpose,
      nonce,
      codeVerifier: pkce.verifier,
      redirectUri,
      scopes: flow.scopes,
      authorityTenant: tenant,
      returnTo: flow.returnTo ?? '/',
      userId: flow.userId ?? null,
      organizationId: flow.organizationId ?? null,
      context: flow.context ?? null,
      expiresAt: new Date(Date.now() + FLOW_LIFETIME_MS),
    });
    return this.microsoft.authorizationUrl({
      redirectUri,
      scopes: flow.scopes,
      state,
      nonce,
      codeChallenge: pkce.challenge,
      prompt: flow.prompt,
      maxAge: flow.maxAge,
      loginHint: flow.loginHint?.slice(0, 256),
      domainHint: flow.domainHint?.slice(0, 256),
      tenant: flow.tenant,
      exactScopes: flow.exactScopes,
    });
  }

  /**
   * Finishes the flow a callback's `state` names. The state is spent only once it is known to be of this
   * purpose, unexpired and presented by the browser or user it is bound to, so a misdirected or forged
   * callback cannot burn somebody's pending flow. Unexpected errors (the database) are thrown.
   */
  async finish(purpose: AuthFlowPurpose, params: CallbackParams, binding: FlowBinding): Promise<FlowResult> {
    const stored = await this.acceptState(purpose, params.state, binding);
    if (!stored || !(await this.repository.consume(stored.id)))
      return { ok: false, code: 'invalid_state', flow: null };
    const flow = await this.completed(stored);

    if (params.error) {
      this.logger.warn(`Microsoft returned ${params.error.slice(0, 100)} to a ${purpose} callback`);
      return { ok: false, code: authorizeErrorCode(params.error, params.errorDescription ?? ''), flow };
    }
    if (!params.code) return { ok: false, code: 'microsoft_error', flow };
    try {
      const tokens = await this.microsoft.redeemCode({
        code: params.code,
        redirectUri: stored.redirectUri,
        scopes: stored.scopes,
        codeVerifier: stored.codeVerifier,
        nonce: stored.nonce,
        tenant: stored.authorityTenant === 'organizations' ? undefined : stored.authorityTenant,
      });
      const claims = await this.microsoft.verifyIdToken(tokens.idToken, stored.nonce);
      return { ok: true, flow, tokens, claims };
    } catch (error) {
      if (error instanceof InvalidIdTokenError) {
        this.logger.warn(`${purpose}: rejected an ID token: ${error.reason}`);
        return { ok: false, code: 'invalid_id_token', flow };
      }
      if (error instanceof MicrosoftTokenError) {
        this.logger.warn(`${purpose}: code redemption failed: ${error.microsoftError}`);
        return { ok: false, code: 'microsoft_error', flow };
      }
      throw error;
    }
  }

  private async acceptState(
    purpose: AuthFlowPurpose,
    state: string | undefined,
    binding: FlowBinding,
  ): Promise<AuthFlowEntity | null> {
    if (!state || state.length > 200) return null;
    const flow = await this.repository.findByStateHash(sha256(state));
    if (!flow || flow.purpose !== purpose || flow.expiresAt.getTime() <= Date.now()) return null;
    if (!flow.browserBindingHash && !flow.userId) return null;
    if (flow.browserBindingHash) {
      if (!presentsBrowserBinding(flow.browserBindingHash, binding.browser)) return null;
    }
    if (flow.userId && binding.userId !== flow.userId) return null;
    return flow;
  }

  private async completed(flow: AuthFlowEntity): Promise<CompletedFlow> {
    const releasesBrowserBinding =
      flow.browserBindingHash !== null && !(await this.repository.hasPendingBinding(flow.browserBindingHash));
    return {
      purpose: flow.purpose,
      returnTo: flow.returnTo,
      userId: flow.userId,
      organizationId: flow.organizationId,
      context: flow.context,
      authorityTenant: flow.authorityTenant,
      releasesBrowserBinding,
    };
  }
}
