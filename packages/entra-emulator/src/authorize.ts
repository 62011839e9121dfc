import { Router, type Request, type Response } from 'express';
import { MSA_TENANT_ID } from './constants.js';
import {
  correlationId,
  param,
  resolveAuthorityTenant,
  type AuthorityTenant,
  type EmulatorContext,
} from './context.js';
import { AadError, aadTimestamp } from './errors.js';
import { sendAccountPicker, sendConsentPage, sendErrorPage, sendFormPost } from './html.js';
import {
  canConsentForTenant,
  effectiveGraphScopes,
  missingAdminConsent,
  needsAdminConsent,
  parseScopes,
  type ParsedScopes,
} from './scopes.js';
import { clientInfo } from './tokens.js';
import type { EmulatorClient, User } from './types.js';

const PROMPTS = ['login', 'none', 'consent', 'select_account'];
const RESPONSE_MODES = ['query', 'fragment', 'form_post'];
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** A request that passed client and redirect URI checks, so errors may now go back to the app. */
interface AuthorizeRequest {
  raw: Record<string, string>;
  authority: AuthorityTenant;
  client: EmulatorClient;
  redirectUri: string;
  responseMode: string;
  state?: string;
  scopes: ParsedScopes;
  prompt?: string;
  /** The user picked in the emulator's own pages (picker or consent form). */
  pickedUserId?: string;
  consentAnswer?: string;
}

/** A user-facing dead end: Entra shows a page and never redirects to the app for these. */
class PageError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function collectParams(req: Request): Record<string, string> {
  const source: unknown = req.method === 'POST' ? req.body : req.query;
  const out: Record<string, string> = {};
  if (source && typeof source === 'object') {
    for (const key of Object.keys(source)) {
      const value = param(source, key);
      if (value !== undefined) out[key] = value;
    }
  }
  return out;
}

export function authorizeRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const { store } = ctx;

  function parseRequest(req: Request, raw: Record<string, string>): AuthorizeRequest {
    let authority: AuthorityTenant;
    try {
      authority = resolveAuthorityTenant(store, String(req.params.tenant));
    } catch (err) {
      if (err instanceof AadError) throw new PageError(err.code, err.message);
      throw err;
    }
    const clientId = raw.client_id ?? '';
    const client = store.findClient(clientId);
    if (!client) {
      const where = authority.kind === 'tenant' ? authority.tenant.displayName : authority.segment;
      throw new PageError(
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${where}'. This can happen if ` +
          `the application has not been installed by the administrator of the tenant or consented to by any user ` +
          `in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    const redirectUri = raw.redirect_uri ?? '';
    if (!client.redirectUris.includes(redirectUri)) {
      throw new PageError(
        50011,
        `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured ` +
          `for the application '${client.clientId}'. Make sure the redirect URI sent in the request matches one ` +
          `added to your application in the Azure portal.`,
      );
    }
    const responseMode = raw.response_mode ?? 'query';
    return {
      raw,
      authority,
      client,
      redirectUri,
      responseMode: RESPONSE_MODES.includes(responseMode) ? responseMode : 'query',
      state: raw.state,
      scopes: parseScopes(raw.scope),
      prompt: raw.prompt,
      pickedUserId: req.method === 'POST' ? raw.emulator_user_id : undefined,
      consentAnswer: req.method === 'POST' ? raw.emulator_consent : undefined,
    };
  }

  /** Protocol errors that are the app's fault, reported to the app (not to the user). */
  function validateProtocol(ar: AuthorizeRequest): void {
    const { raw } = ar;
    if (!RESPONSE_MODES.includes(raw.response_mode ?? 'query')) {
      throw new AadError(
        'invalid_request',
        90023,
        `Unsupported 'response_mode' value '${raw.response_mode}'.`,
      );
    }
    if (raw.response_type !== 'code') {
      throw new AadError(
        'unsupported_response_type',
        700054,
        `response_type '${raw.response_type ?? ''}' is not enabled for the application.`,
      );
    }
    if (!raw.scope) {
      throw new AadError(
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
    }
    if (ar.prompt !== undefined && !PROMPTS.includes(ar.prompt)) {
      throw new AadError('invalid_request', 90023, `Unsupported 'prompt' value '${ar.prompt}'.`);
    }
    if (raw.max_age !== undefined && !/^\d{1,10}$/.test(raw.max_age)) {
      throw new AadError('invalid_request', 90023, `Invalid 'max_age' value '${raw.max_age}'.`);
    }
    if (!raw.code_challenge) {
      throw new AadError(
        'invalid_request',
        9002325,
        'Proof Key for Code Exchange is required: send code_challenge and code_challenge_method=S256.',
      );
    }
    if (raw.code_challenge_method !== 'S256') {
      throw new AadError(
        'invalid_request',
        9002325,
        "This application requires code_challenge_method 'S256'.",
      );
    }
    if (!PKCE_CHALLENGE.test(raw.code_challenge)) {
      throw new AadError('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
    }
    if (ar.scopes.foreign.length > 0) {
      throw new AadError(
        'invalid_resource',
        500011,
        `The resource principal named ${ar.scopes.foreign[0]} was not found in the tenant. This can happen if the ` +
          `application has not been installed by the administrator of the tenant.`,
      );
    }
  }

  function respond(res: Response, ar: AuthorizeRequest, result: Record<string, string>): void {
    const params = { ...result, ...(ar.state !== undefined ? { state: ar.state } : {}) };
    if (ar.responseMode === 'form_post') {
      sendFormPost(res, ar.redirectUri, params);
      return;
    }
    const url = new URL(ar.redirectUri);
    if (ar.responseMode === 'fragment') {
      url.hash = new URLSearchParams(params).toString();
    } else {
      for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
    }
    res.redirect(302, url.toString());
  }

  function respondError(req: Request, res: Response, ar: AuthorizeRequest, err: AadError): void {
    respond(res, ar, {
      error: err.error,
      error_description:
        `${err.description}\r\nTrace ID: ${crypto.randomUUID()}\r\nCorrelation ID: ${correlationId(req)}\r\n` +
        `Timestamp: ${aadTimestamp(Date.now())}`,
      error_uri: `${ctx.baseUrl}/error?code=${err.code}`,
      ...err.extra,
    });
  }

  function formAction(ar: AuthorizeRequest): string {
    return `/${encodeURIComponent(ar.authority.segment)}/oauth2/v2.0/authorize`;
  }

  function carriedParams(ar: AuthorizeRequest): Record<string, string> {
    return Object.fromEntries(Object.entries(ar.raw).filter(([k]) => !k.startsWith('emulator_')));
  }

  /** Users the picker may offer for this authority, optionally narrowed by domain_hint. */
  function pickerCandidates(ar: AuthorizeRequest, hintTenantId?: string): User[] {
    return store.activeUsers().filter((u) => {
      if (hintTenantId && u.tenantId !== hintTenantId) return false;
      if (ar.authority.kind === 'tenant') return u.tenantId === ar.authority.tenant.id;
      if (ar.authority.kind === 'consumers') return u.tenantId === MSA_TENANT_ID;
      return true;
    });
  }

  function showPicker(res: Response, ar: AuthorizeRequest, users: User[]): void {
    const tenantIds = [...new Set(users.map((u) => u.tenantId))];
    const groups = tenantIds.flatMap((id) => {
      const tenant = store.findTenant(id);
      return tenant ? [{ tenant, users: users.filter((u) => u.tenantId === id) }] : [];
    });
    sendAccountPicker(res, formAction(ar), carriedParams(ar), groups);
  }

  /** Returns the signed-in user, or undefined when a page (picker) or error redirect was sent instead. */
  function selectUser(res: Response, ar: AuthorizeRequest): User | undefined {
    if (ar.pickedUserId) {
      const user = store.findUser(ar.pickedUserId);
      if (!user || user.deletedAt) {
        throw new PageError(50034, 'The user account does not exist in the directory.');
      }
      return user;
    }
    const loginHint = ar.raw.login_hint;
    const domainHint = ar.raw.domain_hint ? store.resolveTenant(ar.raw.domain_hint) : undefined;
    if (ar.prompt === 'select_account') {
      showPicker(res, ar, pickerCandidates(ar, domainHint?.id));
      return undefined;
    }
    if (loginHint) {
      const preferTenant = ar.authority.kind === 'tenant' ? ar.authority.tenant.id : undefined;
      const user = store.findUserByLoginHint(loginHint, preferTenant);
      if (!user) {
        const where = ar.authority.kind === 'tenant' ? ar.authority.tenant.displayName : 'Microsoft Services';
        throw new PageError(
          50034,
          `The user account {EUII Hidden} does not exist in the ${where} directory. To sign into this ` +
            `application, the account must be added to the directory.`,
        );
      }
      return user;
    }
    if (domainHint) {
      const members = pickerCandidates(ar, domainHint.id).filter(
        (u) => u.accountEnabled && u.userType === 'Member',
      );
      if (members.length === 1) return members[0];
    }
    if (ar.prompt === 'none') {
      throw new AadError(
        'interaction_required',
        50058,
        'A silent sign-in request was sent but no user is signed in.',
      );
    }
    showPicker(res, ar, pickerCandidates(ar, domainHint?.id));
    return undefined;
  }

  function checkUserMayEnter(ar: AuthorizeRequest, user: User): void {
    const { authority } = ar;
    const wrongTenant =
      (authority.kind === 'tenant' && user.tenantId !== authority.tenant.id) ||
      (authority.kind === 'consumers' && user.tenantId !== MSA_TENANT_ID);
    // Unlike real Entra, `organizations` admits personal accounts here on purpose, so tests can prove the
    // service refuses tid 9188040d-... itself: a `common` authority or a forged response would bring them.
    if (wrongTenant) {
      const name = authority.kind === 'tenant' ? authority.tenant.displayName : authority.segment;
      const idp = store.findTenant(user.homeTenantId ?? user.tenantId);
      throw new PageError(
        50020,
        `User account '${user.userPrincipalName}' from identity provider 'https://sts.windows.net/` +
          `${idp?.id ?? user.tenantId}/' does not exist in tenant '${name}' and cannot access the application ` +
          `'${ar.client.clientId}'(${ar.client.displayName ?? ar.client.clientId}) in that tenant. The account ` +
          `needs to be added as an external user in the tenant first.`,
      );
    }
    if (!user.accountEnabled) {
      throw new PageError(
        50057,
        'The user account is disabled. The account has been disabled by an administrator.',
      );
    }
  }

  /**
   * Tenant-wide admin consent. Returns false when a page was shown (interactive consent). Automated
   * flows (login_hint) get the answer set with store.setConsentDecision().
   */
  function handleConsent(res: Response, ar: AuthorizeRequest, user: User): boolean {
    const grant = store.findGrant(user.tenantId, ar.client.clientId);
    const requested = effectiveGraphScopes(ar.scopes.graph, grant);
    const missing = missingAdminConsent(requested, grant);
    const isAdmin = canConsentForTenant(user, 'delegated');
    const appName = ar.client.displayName ?? ar.client.clientId;
    if (!(missing.length > 0 || (ar.prompt === 'consent' && isAdmin))) return true;
    if (!isAdmin || ar.prompt === 'none') {
      throw isAdmin
        ? new AadError(
            'consent_required',
            65001,
            `The user or administrator has not consented to use the application with ID '${ar.client.clientId}' ` +
              `named '${appName}'. Send an interactive authorization request for this user and resource.`,
          )
        : new AadError(
            'consent_required',
            90094,
            `${appName} needs permission to access resources in your organization that only an admin can grant. ` +
              `Please ask an admin to grant permission to this app before you can use it.`,
          );
    }
    const answer = ar.pickedUserId ? ar.consentAnswer : store.consentDecision;
    if (answer === undefined) {
      const tenant = store.findTenant(user.tenantId)!;
      const params = { ...carriedParams(ar), emulator_user_id: user.id };
      sendConsentPage(res, formAction(ar), params, { appName, user, tenant, scopes: requested });
      return false;
    }
    if (answer !== 'accept') {
      throw new AadError('access_denied', 65004, 'User declined to consent to access the app.', 400, {
        error_subcode: 'cancel',
      });
    }
    // Admins who may grant application permissions also grant the app-only counterparts of the admin
    // scopes: the emulator's stand-in for the permissions an app registration declares.
    const roles = canConsentForTenant(user, 'application') ? requested.filter(needsAdminConsent) : [];
    store.grantConsent(user.tenantId, ar.client.clientId, { scopes: requested, roles });
    return true;
  }

  /**
   * `auth_time` of this sign-in. A sign-on session is reused — its `auth_time` kept — unless `prompt=login`
   * asks for a new authentication or it is older than `max_age` seconds (`max_age=0`: always ask).
   */
  function authenticationTime(ar: AuthorizeRequest, user: User): number {
    const now = store.now();
    const last = store.lastAuthentication(user.id);
    const maxAgeMs = ar.raw.max_age === undefined ? undefined : Number(ar.raw.max_age) * 1000;
    const reuse =
      last !== undefined && ar.prompt !== 'login' && (maxAgeMs === undefined || now - last < maxAgeMs);
    if (reuse) return last;
    store.recordAuthentication(user.id, now);
    return now;
  }

  function complete(res: Response, ar: AuthorizeRequest, user: User): void {
    const grant = store.findGrant(user.tenantId, ar.client.clientId);
    const code = store.createCode({
      clientId: ar.client.clientId,
      redirectUri: ar.redirectUri,
      tenantId: user.tenantId,
      userId: user.id,
      authorityTenant: ar.authority.segment,
      scopes: [...ar.scopes.oidc, ...effectiveGraphScopes(ar.scopes.graph, grant)],
      nonce: ar.raw.nonce ?? null,
      codeChallenge: ar.raw.code_challenge,
      authTime: authenticationTime(ar, user),
    });
    respond(res, ar, {
      code: code.code,
      ...(ar.raw.client_info === '1' ? { client_info: clientInfo(user) } : {}),
      session_state: crypto.randomUUID(),
    });
  }

  const handler = (req: Request, res: Response) => {
    let ar: AuthorizeRequest | undefined;
    try {
      ar = parseRequest(req, collectParams(req));
      validateProtocol(ar);
      const user = selectUser(res, ar);
      if (!user) return;
      checkUserMayEnter(ar, user);
      if (!handleConsent(res, ar, user)) return;
      complete(res, ar, user);
    } catch (err) {
      if (err instanceof PageError) sendErrorPage(res, 400, err.code, err.message);
      else if (err instanceof AadError && ar) respondError(req, res, ar, err);
      else throw err;
    }
  };

  router.get('/:tenant/oauth2/v2.0/authorize', handler);
  router.post('/:tenant/oauth2/v2.0/authorize', handler);
  return router;
}
