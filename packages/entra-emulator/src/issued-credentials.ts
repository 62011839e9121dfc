import { randomBytes } from 'node:crypto';
import { REFRESH_TOKEN_INACTIVITY_MS } from './constants.js';
import type { AuthorizationCode, IdTokenOverride, RefreshToken } from './types.js';

/** Opaque, long, URL-safe values shaped like Entra's (which are not JWTs either). */
function opaqueToken(bytes: number): string {
  return `1.${randomBytes(bytes).toString('base64url')}`;
}

/** What survives a restart: the codes and refresh tokens handed out (the ID token override is a test hook). */
export interface IssuedCredentialsState {
  codes: AuthorizationCode[];
  refreshTokens: RefreshToken[];
}

/** Authorization codes and refresh tokens handed out, and the one-shot override of the next ID token. */
export class IssuedCredentials {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  private idTokenOverride: IdTokenOverride | null = null;
  /**
   * The browser's single sign-on session: each user's last interactive authentication (ms). Like a browser's
   * session it is not saved: after a restart the next sign-in authenticates afresh.
   */
  private readonly authentications = new Map<string, number>();

  /** `now` is the emulator's clock, which tests move forward. */
  constructor(
    private readonly now: () => number,
    saved?: IssuedCredentialsState,
  ) {
    for (const code of saved?.codes ?? []) this.codes.set(code.code, code);
    for (const token of saved?.refreshTokens ?? []) this.refreshTokens.set(token.token, token);
  }

  exportState(): IssuedCredentialsState {
    return { codes: [...this.codes.values()], refreshTokens: [...this.refreshTokens.values()] };
  }

  createCode(fields: Omit<AuthorizationCode, 'code' | 'createdAt' | 'redeemedAt'>): AuthorizationCode {
    const code: AuthorizationCode = {
      ...fields,
      code: opaqueToken(96),
      createdAt: this.now(),
      redeemedAt: null,
    };
    this.codes.set(code.code, code);
    return code;
  }

  /** When the user last authenticated interactively, if they hold a sign-on session. */
  lastAuthentication(userId: string): number | undefined {
    return this.authentications.get(userId);
  }

  recordAuthentication(userId: string, at: number): void {
    this.authentications.set(userId, at);
  }

  findCode(code: string): AuthorizationCode | undefined {
    return this.codes.get(code);
  }

  createRefreshToken(
    from: Pick<RefreshToken, 'clientId' | 'tenantId' | 'userId' | 'scopes' | 'authTime'>,
  ): RefreshToken {
    const token: RefreshToken = {
      clientId: from.clientId,
      tenantId: from.tenantId,
      userId: from.userId,
      scopes: [...from.scopes],
      authTime: from.authTime,
      token: opaqueToken(180),
      createdAt: this.now(),
      usedAt: null,
      revokedAt: null,
    };
    this.refreshTokens.set(token.token, token);
    return token;
  }

  findRefreshToken(token: string): RefreshToken | undefined {
    return this.refreshTokens.get(token);
  }

  isRefreshTokenInactive(token: RefreshToken): boolean {
    return this.now() - token.createdAt > REFRESH_TOKEN_INACTIVITY_MS;
  }

  revokeRefreshTokens(filter: { tenantId?: string; userId?: string }): number {
    let count = 0;
    for (const token of this.refreshTokens.values()) {
      if (token.revokedAt !== null || token.usedAt !== null) continue;
      if (filter.tenantId && token.tenantId !== filter.tenantId) continue;
      if (filter.userId && token.userId.toLowerCase() !== filter.userId.toLowerCase()) continue;
      token.revokedAt = this.now();
      count++;
    }
    return count;
  }

  liveRefreshTokenCount(): number {
    return [...this.refreshTokens.values()].filter((t) => t.usedAt === null && t.revokedAt === null).length;
  }

  setNextIdTokenOverride(override: IdTokenOverride | null): void {
    this.idTokenOverride = override;
  }

  takeIdTokenOverride(): IdTokenOverride | null {
    const override = this.idTokenOverride;
    this.idTokenOverride = null;
    return override;
  }

  get hasIdTokenOverride(): boolean {
    return this.idTokenOverride !== null;
  }
}
