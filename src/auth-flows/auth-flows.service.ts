import { Injectable } from '@nestjs/common';
import { MicrosoftIdentityClient } from '../microsoft/microsoft-identity.client.js';
import { AuthFlowsRepository } from './auth-flows.repository.js';
import type { AuthFlowEntity, AuthFlowPurpose } from './entities/auth-flow.entity.js';
import { safeReturnTo } from './return-to.js';
import { constantTimeEqual, randomToken, sha256 } from './tokens.js';

const FLOW_LIFETIME_MS = 10 * 60_000;

export interface NewFlow {
  purpose: AuthFlowPurpose;
  returnTo?: string;
  /** For flows started by a signed-in user (connecting a tenant). */
  userId?: string;
  organizationId?: string;
  /** A browser-held secret the callback must present (sign-in's login-CSRF defence). */
  browserBinding?: string;
}

/** What goes into the authorize URL; the verifier stays on the server. */
export interface StartedFlow {
  state: string;
  nonce: string;
  codeChallenge: string;
}

/**
 * The server side of a redirect to Microsoft: state, nonce and PKCE verifier, kept in the database (so any
 * replica can finish a flow) for ten minutes, and consumable exactly once.
 */
@Injectable()
export class AuthFlowsService {
  constructor(
    private readonly repository: AuthFlowsRepository,
    private readonly microsoft: MicrosoftIdentityClient,
  ) {}

  async start(flow: NewFlow): Promise<StartedFlow> {
    const state = randomToken();
    const nonce = randomToken();
    const pkce = await this.microsoft.generatePkce();
    await this.repository.deleteExpired();
    await this.repository.create({
      stateHash: sha256(state),
      browserBindingHash: flow.browserBinding ? sha256(flow.browserBinding) : null,
      purpose: flow.purpose,
      nonce,
      codeVerifier: pkce.verifier,
      returnTo: safeReturnTo(flow.returnTo),
      userId: flow.userId ?? null,
      organizationId: flow.organizationId ?? null,
      expiresAt: new Date(Date.now() + FLOW_LIFETIME_MS),
    });
    return { state, nonce, codeChallenge: pkce.challenge };
  }

  /**
   * Consumes the flow a callback's `state` names. Null when unknown, used, expired, of another purpose, or
   * (for browser-bound flows) presented by another browser.
   */
  async consume(
    purpose: AuthFlowPurpose,
    state: string | undefined,
    browserBinding?: string,
  ): Promise<AuthFlowEntity | null> {
    if (!state || state.length > 200) return null;
    const flow = await this.repository.consume(sha256(state));
    if (!flow || flow.purpose !== purpose || flow.expiresAt.getTime() < Date.now()) return null;
    if (flow.browserBindingHash) {
      if (!browserBinding || !constantTimeEqual(flow.browserBindingHash, sha256(browserBinding))) return null;
    }
    return flow;
  }
}
