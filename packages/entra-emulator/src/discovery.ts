import { Router, type Request, type Response } from 'express';
import { MSA_TENANT_ID } from './constants.js';
import {
  param,
  resolveAuthorityTenant,
  correlationId,
  type AuthorityTenant,
  type EmulatorContext,
} from './context.js';
import { AadError, sendTokenError } from './errors.js';
import { escapeHtml, sendPage } from './html.js';

/** The concrete tenant GUID a metadata document speaks for, or the `{tenantid}` template. */
function issuerFor(ctx: EmulatorContext, authority: AuthorityTenant): string {
  if (authority.kind === 'tenant') return `${ctx.baseUrl}/${authority.tenant.id}/v2.0`;
  if (authority.kind === 'consumers') return `${ctx.baseUrl}/${MSA_TENANT_ID}/v2.0`;
  return `${ctx.baseUrl}/{tenantid}/v2.0`;
}

/** Tenant-specific documents always name the tenant by GUID, even when it was asked for by domain. */
function pathTenant(authority: AuthorityTenant): string {
  return authority.kind === 'tenant' ? authority.tenant.id : authority.segment.toLowerCase();
}

export function openIdConfiguration(ctx: EmulatorContext, authority: AuthorityTenant) {
  const base = `${ctx.baseUrl}/${pathTenant(authority)}`;
  const host = new URL(ctx.baseUrl).host;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: issuerFor(ctx, authority),
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    tenant_region_scope: authority.kind === 'tenant' ? 'EU' : null,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    // Graph is served by this same process under /v1.0.
    msgraph_host: host,
    rbac_url: 'https://pas.windows.net',
  };
}

export function discoveryRouter(ctx: EmulatorContext): Router {
  const router = Router();

  const withAuthority = (handler: (req: Request, res: Response, authority: AuthorityTenant) => void) => {
    return (req: Request, res: Response) => {
      try {
        handler(req, res, resolveAuthorityTenant(ctx.store, String(req.params.tenant)));
      } catch (err) {
        if (!(err instanceof AadError)) throw err;
        sendTokenError(res, err, { baseUrl: ctx.baseUrl, correlationId: correlationId(req) });
      }
    };
  };

  router.get(
    '/:tenant/v2.0/.well-known/openid-configuration',
    withAuthority((_req, res, authority) => {
      res.set('Access-Control-Allow-Origin', '*').json(openIdConfiguration(ctx, authority));
    }),
  );

  router.get(
    '/:tenant/discovery/v2.0/keys',
    withAuthority((_req, res, authority) => {
      res.set('Access-Control-Allow-Origin', '*').json(ctx.keys.jwks(issuerFor(ctx, authority)));
    }),
  );

  // Instance discovery: MSAL only calls it for hosts outside knownAuthorities, answered for completeness.
  router.get('/common/discovery/instance', (req, res) => {
    const host = new URL(ctx.baseUrl).host;
    const endpoint = param(req.query, 'authorization_endpoint');
    const segment = endpoint ? new URL(endpoint).pathname.split('/')[1] || 'common' : 'common';
    res.json({
      tenant_discovery_endpoint: `${ctx.baseUrl}/${segment}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });

  router.get('/:tenant/oauth2/v2.0/logout', (req, res) => {
    const target = param(req.query, 'post_logout_redirect_uri');
    const registered = (uri: string) => {
      const origin = new URL(uri).origin;
      return ctx.store.clients.some((c) => c.redirectUris.some((r) => new URL(r).origin === origin));
    };
    // Only origins of registered redirect URIs, so the emulator cannot be used as an open redirect.
    if (target && URL.canParse(target) && registered(target)) {
      const url = new URL(target);
      const state = param(req.query, 'state');
      if (state) url.searchParams.set('state', state);
      res.redirect(302, url.toString());
      return;
    }
    sendPage(res, 200, 'Signed out', '<main><h1>You signed out of your account</h1></main>');
  });

  router.get('/error', (req, res) => {
    const code = param(req.query, 'code') ?? 'unknown';
    sendPage(res, 200, `AADSTS${code}`, `<main><h1>Error AADSTS${escapeHtml(code)}</h1></main>`);
  });

  return router;
}
