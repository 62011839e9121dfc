import { Inject, Injectable, Logger } from '@nestjs/common';
import { type AccountInfo, ConfidentialClientApplication, CryptoProvider, LogLevel } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, type JWTPayload, jwtVerify } from 'jose';
import type { AppConfig } from '../config/config.js';
import { isUuid } from '../common/uuid.js';
import { APP_CONFIG } from '../config/config.module.js';
import { InvalidIdTokenError, MicrosoftTokenError } from './microsoft.errors.js';

/** The tenant id Microsoft gives every personal (consumer) account. */
export const PERSONAL_ACCOUNT_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
const CLOCK_SKEW_SECONDS = 120;
export const JWKS_REFETCH_COOLDOWN_MS = 5_000;

/** The claims of a fully validated v2 ID token that the rest of the service relies on. */
export interface VerifiedIdToken {
  tenantId: string;
  objectId: string;
  issuer: string;
  /** `preferred_username`, usually the UPN: a hint for display and domain matching, mutable. */
  preferredUsername: string | null;
  name: string | null;
  email: string | null;
  /** `xms_edov`: the email's domain was verified by the tenant that owns it. */
  emailDomainVerified: boolean;
  /** Group object ids, or null when the token has none or signals an overage (see `groupsOverage`). */
  groups: string[] | null;
  groupsOverage: boolean;
  /**
   * `wids`: template ids of the account's tenant-wide directory roles; null when the token has no `wids`
   * claim at all (the app registration does not emit it), which is not the same as holding no role.
   */
  directoryRoleTemplateIds: string[] | null;
  /** `acct` = 1, or an `idp` differing from the issuer: the account belongs to another tenant. */
  isGuest: boolean;
  authTime: Date | null;
  /** `iat`: when the token was issued (the freshness fallback when `auth_time` is absent). */
  issuedAt?: Date | null;
}

export interface AuthorizeRequest {
  redirectUri: string;
  scopes: string[];
  state: string;
  nonce: string;
  codeChallenge: string;
  prompt?: AuthorizePrompt;
  /** Seconds since the last interactive sign-in beyond which Microsoft must ask again (`max_age`). */
  maxAge?: number;
  loginHint?: string;
  domainHint?: string;
  /** The `{tenant}` of the authority: `organizations` (default), a tenant id or a verified domain. */
  tenant?: string;
  /**
   * Ask for `scopes` and nothing else: MSAL always adds `offline_access`, which a flow that needs no refresh
   * token (a one-off proof of identity) should not request.
   */
  exactScopes?: boolean;
}

export type AuthorizePrompt = 'login' | 'none' | 'consent' | 'select_account';

export interface RedeemRequest {
  code: string;
  redirectUri: string;
  scopes: string[];
  codeVerifier: string;
  nonce: string;
  /** The authority tenant the authorize request used; `organizations` by default. */
  tenant?: string;
}

export interface TokenSet {
  idToken: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string | null;
  scopes: string[];
}

interface OpenIdConfiguration {
  issuer: string;
  jwks_uri: string;
}

/**
 * Speaks to the Microsoft identity platform (v2.0) for "Continue with Microsoft" and admin consent: MSAL Node
 * builds authorize URLs and redeems codes; jose validates every ID token in full. Hosts come from config only.
 */
@Injectable()
export class MicrosoftIdentityClient {
  private readonly logger = new Logger(MicrosoftIdentityClient.name);
  private readonly crypto = new CryptoProvider();
  private readonly msal: ConfidentialClientApplication;
  private readonly authority: string;
  private metadata?: Promise<{ issuerTemplate: string; jwks: ReturnType<typeof createRemoteJWKSet> }>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const { clientId, clientSecret, authorityHost } = config.entra;
    this.authority = `${authorityHost}/organizations`;
    this.msal = new ConfidentialClientApplication({
      auth: {
        clientId: clientId ?? 'unconfigured',
        clientSecret: clientSecret ?? 'unconfigured',
        authority: this.authority,
        knownAuthorities: [new URL(authorityHost).host],
      },
      system: {
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (_level, message) => this.logger.warn(message),
        },
      },
    });
  }

  generatePkce(): Promise<{ verifier: string; challenge: string }> {
    return this.crypto.generatePkceCodes();
  }

  async authorizationUrl(request: AuthorizeRequest): Promise<string> {
    const url = await this.msal.getAuthCodeUrl({
      redirectUri: request.redirectUri,
      scopes: request.scopes,
      state: request.state,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      responseMode: 'query',
      prompt: request.prompt,
      maxAge: request.maxAge,
      loginHint: request.loginHint,
      domainHint: request.domainHint,
      authority: this.authorityFor(request.tenant),
    });
    const adjusted = new URL(url);
    if (request.exactScopes) adjusted.searchParams.set('scope', request.scopes.join(' '));
    // MSAL leaves out `max_age=0` (a falsy value), the one that forces a new authentication.
    if (request.maxAge !== undefined) adjusted.searchParams.set('max_age', String(request.maxAge));
    return adjusted.toString();
  }

  private authorityFor(tenant: string | undefined): string {
    return tenant ? `${this.config.entra.authorityHost}/${encodeURIComponent(tenant)}` : this.authority;
  }

  /**
   * Redeems an authorization code. Returns the raw ID token (still to be validated) and, when
   * `offline_access` was granted, the refresh token MSAL keeps in its cache (read once, then evicted).
   */
  async redeemCode(request: RedeemRequest): Promise<TokenSet> {
    try {
      const result = await this.msal.acquireTokenByCode({
        code: request.code,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
        codeVerifier: request.codeVerifier,
        nonce: request.nonce,
        authority: this.authorityFor(request.tenant),
      });
      const refreshToken = await this.takeFromCache(result.account);
      if (!result.idToken)
        throw new MicrosoftTokenError('no_id_token', 'The token response carried no ID token.');
      return {
        idToken: result.idToken,
        accessToken: result.accessToken,
        accessTokenExpiresAt: result.expiresOn ?? new Date(Date.now() + 3_000_000),
        refreshToken,
        scopes: result.scopes,
      };
    } catch (error) {
      // MSAL checks the nonce itself before we see the token; report it as the ID-token failure it is.
      if ((error as { errorCode?: string }).errorCode === 'nonce_mismatch')
        throw new InvalidIdTokenError('nonce mismatch');
      const failure = toTokenError(error);
      this.logger.warn(`code redemption failed: ${failure.microsoftError} ${failure.description}`.trim());
      throw failure;
    }
  }

  /**
   * Exchanges a refresh token for a new access token at the tenant's own authority. Microsoft may rotate the
   * refresh token: the newest is returned and must be stored at once. `invalid_grant` means the grant is gone
   * (consent revoked, the consenting admin left): the caller must ask for a new consent.
   *
   * One plain request to the token endpoint, not MSAL: MSAL remembers a 429/5xx or a `Retry-After` in a
   * local throttling cache and then refuses to call Microsoft at all for up to an hour, so one transient
   * fault would keep every later refresh failing. Whether and when to retry is the caller's decision.
   */
  async refresh(
    tenantId: string,
    refreshToken: string,
    scopes: string[],
  ): Promise<Omit<TokenSet, 'idToken'>> {
    const { clientId, clientSecret, authorityHost } = this.config.entra;
    const url = `${authorityHost}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          client_id: clientId ?? '',
          client_secret: clientSecret ?? '',
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          scope: [...scopes, 'offline_access'].join(' '),
        }),
        signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw this.tokenFailure(tenantId, 'token_request_failed', String(error));
    }
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      refresh_token?: unknown;
      expires_in?: unknown;
      scope?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (!response.ok || typeof body.access_token !== 'string') {
      const code = typeof body.error === 'string' && body.error ? body.error : `http_${response.status}`;
      const description = typeof body.error_description === 'string' ? body.error_description : '';
      throw this.tokenFailure(tenantId, code, description);
    }
    const expiresIn = Number(body.expires_in);
    return {
      accessToken: body.access_token,
      accessTokenExpiresAt: new Date(Date.now() + (Number.isFinite(expiresIn) ? expiresIn : 3_000) * 1000),
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : refreshToken,
      scopes: typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : scopes,
    };
  }

  /** Microsoft's description (AADSTS text, trace and correlation ids) goes to the log, never to a client. */
  private tokenFailure(tenantId: string, code: string, description: string): MicrosoftTokenError {
    const firstLine = description.split('\n')[0].slice(0, 300);
    // The code reaches clients: only an OAuth-style token, never free text from the answer.
    const safeCode = /^[a-z0-9_]{1,64}$/i.test(code) ? code : 'token_request_failed';
    this.logger.warn(`token refresh for tenant ${tenantId} failed: ${safeCode} ${firstLine}`.trim());
    return new MicrosoftTokenError(safeCode, firstLine);
  }

  /** MSAL caches every account it sees: read the refresh token we need, then evict the account. */
  private async takeFromCache(account: AccountInfo | null): Promise<string | null> {
    if (!account) return null;
    const cache = this.msal.getTokenCache();
    const serialized = JSON.parse(cache.serialize()) as {
      RefreshToken?: Record<string, { home_account_id?: string; secret?: string }>;
    };
    const entry = Object.values(serialized.RefreshToken ?? {}).find(
      (t) => t.home_account_id === account.homeAccountId,
    );
    await cache.removeAccount(account);
    return entry?.secret ?? null;
  }

  /**
   * Validates an ID token as the OpenID Connect spec and Microsoft require: RS256 signature by a key from the
   * JWKS (re-fetched on an unknown `kid`), the issuer template filled with the token's own `tid`, our client
   * id as audience, `exp`/`nbf`/`iat` within a small clock skew, and the nonce we sent.
   */
  async verifyIdToken(raw: string, expectedNonce: string): Promise<VerifiedIdToken> {
    const { issuerTemplate, jwks } = await this.loadMetadata();
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(raw);
    } catch {
      throw new InvalidIdTokenError('not a JWT');
    }
    const tid = unverified.tid;
    if (!isUuid(tid)) throw new InvalidIdTokenError('tid missing or not a GUID');
    const expectedIssuer = issuerTemplate.replace('{tenantid}', tid);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(raw, jwks, {
        algorithms: ['RS256'],
        issuer: expectedIssuer,
        audience: this.config.entra.clientId,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'tid', 'oid', 'nonce'],
      }));
    } catch (error) {
      const reason =
        error instanceof joseErrors.JOSEError ? `${error.code}: ${error.message}` : String(error);
      throw new InvalidIdTokenError(reason);
    }
    if (payload.nonce !== expectedNonce) throw new InvalidIdTokenError('nonce mismatch');
    if (!isUuid(payload.oid)) throw new InvalidIdTokenError('oid missing or not a GUID');
    return toVerifiedIdToken(payload, tid);
  }

  private loadMetadata() {
    this.metadata ??= this.fetchMetadata().catch((error: unknown) => {
      this.metadata = undefined; // retry on the next sign-in rather than caching an outage
      throw error;
    });
    return this.metadata;
  }

  private async fetchMetadata() {
    const url = `${this.authority}/v2.0/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok)
      throw new MicrosoftTokenError('discovery_failed', `OpenID discovery answered ${response.status}.`);
    const document = (await response.json()) as OpenIdConfiguration;
    if (!document.issuer?.includes('{tenantid}')) {
      throw new MicrosoftTokenError('discovery_failed', 'The multi-tenant issuer template is missing.');
    }
    // jose caches the key set for an hour and re-fetches it when a token names an unknown kid (a rotation),
    // at most once per cooldown so forged kids cannot turn sign-ins into a flood of JWKS requests.
    const jwks = createRemoteJWKSet(new URL(document.jwks_uri), {
      cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
      cacheMaxAge: 3_600_000,
    });
    return { issuerTemplate: document.issuer, jwks };
  }
}

function toVerifiedIdToken(payload: JWTPayload, tenantId: string): VerifiedIdToken {
  const str = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : null);
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const claimNames = payload._claim_names as Record<string, unknown> | undefined;
  const idp = str(payload.idp);
  return {
    tenantId,
    objectId: payload.oid as string,
    issuer: payload.iss as string,
    preferredUsername: str(payload.preferred_username),
    name: str(payload.name),
    email: str(payload.email),
    emailDomainVerified: payload.xms_edov === true || payload.xms_edov === 'true' || payload.xms_edov === 1,
    groups: Array.isArray(payload.groups) ? strings(payload.groups) : null,
    groupsOverage: Boolean(claimNames && 'groups' in claimNames),
    directoryRoleTemplateIds: Array.isArray(payload.wids) ? strings(payload.wids) : null,
    isGuest: payload.acct === 1 || payload.acct === '1' || (idp !== null && idp !== payload.iss),
    authTime: typeof payload.auth_time === 'number' ? new Date(payload.auth_time * 1000) : null,
    issuedAt: typeof payload.iat === 'number' ? new Date(payload.iat * 1000) : null,
  };
}

const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

function toTokenError(error: unknown): MicrosoftTokenError {
  if (error instanceof MicrosoftTokenError) return error;
  const e = error as { errorCode?: string; errorMessage?: string };
  const code = typeof e?.errorCode === 'string' && e.errorCode ? e.errorCode : 'token_request_failed';
  // AADSTS descriptions carry trace ids, not secrets; keep the first line for operators.
  const description = typeof e?.errorMessage === 'string' ? e.errorMessage.split('\n')[0].slice(0, 300) : '';
  return new MicrosoftTokenError(code, description);
}
