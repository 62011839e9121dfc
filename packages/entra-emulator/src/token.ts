import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { ACCESS_TOKEN_LIFETIME_S, CODE_LIFETIME_MS } from './constants.js';
import {
  correlationId,
  param,
  resolveAuthorityTenant,
  type AuthorityTenant,
  type EmulatorContext,
} from './context.js';
import { AadError, aadTimestamp, sendTokenError } from './errors.js';
import { hasScope, parseScopes } from './scopes.js';
import { clientInfo, issueAccessToken, issueIdToken } from './tokens.js';
import type { EmulatorClient, User } from './types.js';

type Form = Record<string, string>;

const missing = (name: string) =>
  new AadError(
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function readForm(req: Request): Form {
  if (!req.is('application/x-www-form-urlencoded')) throw missing('grant_type');
  const form: Form = {};
  for (const key of Object.keys(req.body ?? {})) {
    const value = param(req.body, key);
    if (value !== undefined) form[key] = value;
  }
  return form;
}

export function tokenRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const { store } = ctx;

  function authenticateClient(req: Request, form: Form, authority: AuthorityTenant): EmulatorClient {
    let clientId = form.client_id;
    let secret = form.client_secret;
    const header = req.get('authorization');
    if (header?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        clientId ??= decodeURIComponent(decoded.slice(0, colon));
        secret ??= decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    if (!clientId) throw missing('client_id');
    const client = store.findClient(clientId);
    if (!client) {
      const where = authority.kind === 'tenant' ? authority.tenant.displayName : authority.segment;
      throw new AadError(
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${where}'. This can happen if ` +
          `the application has not been installed by the administrator of the tenant or consented to by any user ` +
          `in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (!secret) {
      throw new AadError(
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        401,
      );
    }
    if (!sameSecret(secret, client.clientSecret)) {
      throw new AadError(
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ` +
          `not the client secret ID, for a secret added to app '${client.clientId}'.`,
        401,
      );
    }
    return client;
  }

  function requireUsableUser(userId: string): User {
    const user = store.findUser(userId);
    if (!user || user.deletedAt) {
      throw new AadError('invalid_grant', 50034, 'The user account does not exist in the directory.');
    }
    if (!user.accountEnabled) {
      throw new AadError('invalid_grant', 50057, 'The user account is disabled.');
    }
    return user;
  }

  function assertTenantMatches(authority: AuthorityTenant, tenantId: string): void {
    if (authority.kind === 'tenant' && authority.tenant.id !== tenantId) {
      throw new AadError(
        'invalid_grant',
        700005,
        'Provided Authorization Code is intended to use against other tenant, thus rejected.',
      );
    }
  }

  /** The shape every delegated grant returns. */
  function delegatedResponse(
    form: Form,
    args: { client: EmulatorClient; user: User; scopes: string[]; nonce: string | null; authTime: number },
    refreshToken: string | undefined,
  ) {
    const parsed = parseScopes(args.scopes.join(' '));
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: [...parsed.graph, ...parsed.oidc.filter((s) => s !== 'offline_access')].join(' '),
      expires_in: ACCESS_TOKEN_LIFETIME_S,
      ext_expires_in: ACCESS_TOKEN_LIFETIME_S,
      access_token: issueAccessToken(ctx, {
        client: args.client,
        tenantId: args.user.tenantId,
        user: args.user,
        scopes: parsed.graph,
      }),
    };
    if (refreshToken) body.refresh_token = refreshToken;
    if (parsed.oidc.includes('openid')) body.id_token = issueIdToken(ctx, args);
    if (form.client_info === '1') body.client_info = clientInfo(args.user);
    return body;
  }

  function authorizationCodeGrant(form: Form, client: EmulatorClient, authority: AuthorityTenant) {
    if (!form.code) throw missing('code');
    const code = store.findCode(form.code);
    if (!code) {
      throw new AadError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    if (code.redeemedAt !== null) {
      throw new AadError(
        'invalid_grant',
        54005,
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing ' +
          'refresh token.',
      );
    }
    if (store.now() - code.createdAt > CODE_LIFETIME_MS) {
      throw new AadError(
        'invalid_grant',
        70008,
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive ' +
          'authorization request for this user and resource.',
      );
    }
    if (code.clientId !== client.clientId) {
      throw new AadError(
        'invalid_grant',
        700005,
        'Provided Authorization Code is intended to use against other app.',
      );
    }
    assertTenantMatches(authority, code.tenantId);
    if (form.redirect_uri !== code.redirectUri) {
      throw new AadError(
        'invalid_grant',
        50011,
        `The redirect URI '${form.redirect_uri ?? ''}' specified in the request does not match the redirect URI ` +
          `used to obtain the authorization code.`,
      );
    }
    if (!form.code_verifier) {
      throw new AadError(
        'invalid_grant',
        50148,
        'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.',
      );
    }
    if (createHash('sha256').update(form.code_verifier).digest('base64url') !== code.codeChallenge) {
      throw new AadError(
        'invalid_grant',
        501481,
        'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
      );
    }
    const user = requireUsableUser(code.userId);
    code.redeemedAt = store.now();
    const refresh = hasScope(code.scopes, 'offline_access')
      ? store.createRefreshToken({ ...code, clientId: client.clientId }).token
      : undefined;
    return delegatedResponse(
      form,
      { client, user, scopes: code.scopes, nonce: code.nonce, authTime: code.authTime },
      refresh,
    );
  }

  function refreshTokenGrant(form: Form, client: EmulatorClient, authority: AuthorityTenant) {
    if (!form.refresh_token) throw missing('refresh_token');
    const token = store.findRefreshToken(form.refresh_token);
    if (!token || token.clientId !== client.clientId) {
      throw new AadError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    if (token.revokedAt !== null) {
      throw new AadError(
        'invalid_grant',
        50173,
        `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have ` +
          `changed or reset their password. The grant was issued on '${aadTimestamp(token.createdAt)}' and the ` +
          `TokensValidFrom date (before which tokens are not valid) for this user is '${aadTimestamp(token.revokedAt)}'.`,
      );
    }
    if (token.usedAt !== null) {
      throw new AadError(
        'invalid_grant',
        70000,
        'Provided grant is invalid or malformed. The refresh token was already redeemed; refresh tokens rotate, ' +
          'use the newest one.',
      );
    }
    if (store.isRefreshTokenInactive(token)) {
      throw new AadError(
        'invalid_grant',
        700082,
        `The refresh token has expired due to inactivity. The token was issued on ${aadTimestamp(token.createdAt)} ` +
          `and was inactive for 90.00:00:00.`,
      );
    }
    if (authority.kind === 'tenant' && authority.tenant.id !== token.tenantId) {
      throw new AadError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    const user = requireUsableUser(token.userId);
    const original = parseScopes(token.scopes.join(' '));
    const requested = parseScopes(form.scope ?? token.scopes.join(' '));
    const graph = requested.graph.filter((s) => s !== '.default');
    const extra = graph.filter((s) => !hasScope(original.graph, s));
    if (extra.length > 0 || requested.foreign.length > 0) {
      throw new AadError(
        'invalid_grant',
        65001,
        `The user or administrator has not consented to use the application with ID '${client.clientId}' for ` +
          `${[...extra, ...requested.foreign].join(' ')}. Send an interactive authorization request for this user ` +
          `and resource.`,
        400,
        { suberror: 'consent_required' },
      );
    }
    token.usedAt = store.now();
    const next = store.createRefreshToken(token);
    const scopes = [...requested.oidc, ...(graph.length ? graph : original.graph)];
    return delegatedResponse(
      form,
      { client, user, scopes, nonce: null, authTime: token.authTime },
      next.token,
    );
  }

  function clientCredentialsGrant(form: Form, client: EmulatorClient, authority: AuthorityTenant) {
    if (authority.kind !== 'tenant') {
      throw new AadError(
        'invalid_request',
        50059,
        'No tenant-identifying information found in either the request or implied by any provided credentials. ' +
          'The client credentials flow needs a tenant GUID or verified domain in the authority.',
      );
    }
    const scope = form.scope ?? '';
    if (!scope) throw missing('scope');
    if (scope.includes(' ') || !scope.endsWith('/.default')) {
      throw new AadError(
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with ` +
          `/.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    if (parseScopes(scope).graph.length !== 1) {
      throw new AadError(
        'invalid_resource',
        500011,
        `The resource principal named ${scope.slice(0, -'/.default'.length)} was not found in the tenant named ` +
          `${authority.tenant.displayName}.`,
      );
    }
    const grant = store.findGrant(authority.tenant.id, client.clientId);
    if (!grant) {
      throw new AadError(
        'unauthorized_client',
        700016,
        `Application with identifier '${client.clientId}' was not found in the directory ` +
          `'${authority.tenant.displayName}'. This can happen if the application has not been installed by the ` +
          `administrator of the tenant or consented to by any user in the tenant.`,
      );
    }
    return {
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_S,
      ext_expires_in: ACCESS_TOKEN_LIFETIME_S,
      access_token: issueAccessToken(ctx, { client, tenantId: authority.tenant.id, roles: grant.roles }),
    };
  }

  router.post('/:tenant/oauth2/v2.0/token', (req: Request, res: Response) => {
    try {
      const authority = resolveAuthorityTenant(store, String(req.params.tenant));
      const form = readForm(req);
      const grantType = form.grant_type;
      if (!grantType) throw missing('grant_type');
      const client = authenticateClient(req, form, authority);
      const grant = new Map([
        ['authorization_code', authorizationCodeGrant],
        ['refresh_token', refreshTokenGrant],
        ['client_credentials', clientCredentialsGrant],
      ]).get(grantType);
      if (!grant) {
        throw new AadError(
          'unsupported_grant_type',
          70003,
          `The app requested an unsupported grant type '${grantType}'.`,
        );
      }
      const body = grant(form, client, authority);
      res.set('Cache-Control', 'no-store, no-cache').set('Pragma', 'no-cache').json(body);
    } catch (err) {
      if (!(err instanceof AadError)) throw err;
      sendTokenError(res, err, { baseUrl: ctx.baseUrl, correlationId: correlationId(req) });
    }
  });

  return router;
}
