import { randomBytes } from 'node:crypto';
import type { Response } from 'express';
import type { Tenant, User } from './types.js';

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const STYLE = `
body{font-family:system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:440px;margin:48px auto;background:#fff;padding:32px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.4rem;font-weight:600;margin:0 0 16px}h2{font-size:.95rem;color:#555;margin:20px 0 6px}
button{display:block;width:100%;text-align:left;background:#fff;border:1px solid #ccc;padding:10px 12px;
margin:6px 0;cursor:pointer;font:inherit}button:hover{background:#f0f6ff;border-color:#0067b8}
button.primary{background:#0067b8;color:#fff;text-align:center;border:0}
small{display:block;color:#666}.code{font-family:monospace;color:#a80000}.muted{color:#666}ul{padding-left:20px}
`;

/**
 * Every page gets a fresh nonce; inline style and script run only with it, so the pages work under a
 * strict CSP and load nothing from elsewhere.
 */
export function sendPage(res: Response, status: number, title: string, body: string, script?: string) {
  const nonce = randomBytes(16).toString('base64');
  res
    .status(status)
    .set('Content-Type', 'text/html; charset=utf-8')
    .set('Cache-Control', 'no-store')
    .set(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'`,
    )
    .set('X-Frame-Options', 'DENY')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<meta name="viewport" content="width=device-width,initial-scale=1">` +
        `<style nonce="${nonce}">${STYLE}</style></head><body>${body}` +
        (script ? `<script nonce="${nonce}">${script}</script>` : '') +
        `</body></html>`,
    );
}

/** Entra shows these instead of redirecting when the redirect URI cannot be trusted or the user is stuck. */
export function sendErrorPage(res: Response, status: number, code: number, message: string) {
  sendPage(
    res,
    status,
    'Sign in to your account',
    `<main><h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>` +
      `<p class="code">AADSTS${code}: ${escapeHtml(message)}</p></main>`,
  );
}

function hiddenInputs(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
}

export function sendAccountPicker(
  res: Response,
  action: string,
  params: Record<string, string>,
  groups: { tenant: Tenant; users: User[] }[],
) {
  const sections = groups
    .map(
      ({ tenant, users }) =>
        `<h2>${escapeHtml(tenant.displayName)}</h2>` +
        users
          .map(
            (u) =>
              `<button type="submit" name="emulator_user_id" value="${escapeHtml(u.id)}">` +
              `${escapeHtml(u.displayName)}${u.accountEnabled ? '' : ' <span class="muted">(disabled)</span>'}` +
              `<small>${escapeHtml(u.userPrincipalName)}</small></button>`,
          )
          .join(''),
    )
    .join('');
  sendPage(
    res,
    200,
    'Pick an account',
    `<main><h1>Pick an account</h1><form method="post" action="${escapeHtml(action)}">` +
      `${hiddenInputs(params)}${sections || '<p class="muted">No accounts.</p>'}</form></main>`,
  );
}

export function sendConsentPage(
  res: Response,
  action: string,
  params: Record<string, string>,
  info: { appName: string; user: User; tenant: Tenant; scopes: string[] },
) {
  sendPage(
    res,
    200,
    'Permissions requested',
    `<main><h1>Permissions requested</h1><p><b>${escapeHtml(info.appName)}</b> would like to:</p>` +
      `<ul>${info.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>` +
      `<p class="muted">Signed in as ${escapeHtml(info.user.userPrincipalName)}. Accepting consents on behalf of ` +
      `your organization (${escapeHtml(info.tenant.displayName)}).</p>` +
      `<form method="post" action="${escapeHtml(action)}">${hiddenInputs(params)}` +
      `<button class="primary" type="submit" name="emulator_consent" value="accept">Accept</button>` +
      `<button type="submit" name="emulator_consent" value="decline">Cancel</button></form></main>`,
  );
}

/** response_mode=form_post: the browser posts the result to the redirect URI by itself. */
export function sendFormPost(res: Response, redirectUri: string, params: Record<string, string>) {
  sendPage(
    res,
    200,
    'Working...',
    `<form method="post" action="${escapeHtml(redirectUri)}">${hiddenInputs(params)}` +
      `<noscript><p>Script is disabled. Click Submit to continue.</p><button type="submit">Submit</button></noscript>` +
      `</form>`,
    'document.forms[0].submit();',
  );
}
