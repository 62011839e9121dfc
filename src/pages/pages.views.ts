import { html, inlineMarkup, layout, type SafeHtml } from './html.js';
import { CONNECT_PAGE_EXTRA_CODES, messageOf, PENDING_REASONS } from './result-messages.js';

export interface ConnectionView {
  tenantId: string;
  tenantName: string | null;
  status: string;
  connectedAt: string;
  verifiedDomains: string[];
}

export interface SignedInView {
  displayName: string;
  email: string;
  role: string;
  organizationName: string;
  plan: string;
  connection: ConnectionView | null;
}

/** The query parameters a result page reads; anything else is ignored. */
export interface ResultQuery {
  error?: string;
  reason?: string;
  status?: string;
  code?: string;
  retryAfter?: string;
}

const QUERY_KEYS = ['error', 'reason', 'status', 'code', 'retryAfter'] as const;

/** The result query parameters a page reads: single string values only (a repeated parameter is ignored). */
export function resultQuery(query: unknown): ResultQuery {
  const given = (query ?? {}) as Record<string, unknown>;
  const picked: ResultQuery = {};
  for (const key of QUERY_KEYS) {
    const value = given[key];
    if (typeof value === 'string' && value.length > 0 && value.length <= 200) picked[key] = value;
  }
  return picked;
}

export const ROUTES = {
  home: '/',
  signIn: '/sign-in',
  chooseOrganization: '/sign-in/choose-organization',
  entraSettings: '/settings/integrations/entra',
  tenantAssignment: '/settings/tenant-assignment',
  docs: '/docs',
} as const;

const loginUrl = (returnTo?: string) =>
  returnTo && returnTo !== '/'
    ? `/auth/microsoft/login?returnTo=${encodeURIComponent(returnTo)}`
    : '/auth/microsoft/login';

const signInLink = (returnTo?: string, label = 'Continue with Microsoft') =>
  html`<p><a class="button" href="${loginUrl(returnTo)}">${label}</a></p>`;

/** `retryAfter` as the sign-in limits send it: whole seconds, anything else is ignored. */
function retryHint(retryAfter: string | undefined): SafeHtml | '' {
  if (!retryAfter || !/^\d{1,6}$/.test(retryAfter)) return '';
  const seconds = Number(retryAfter);
  const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
  return html`<p>Try again in about ${wait}.</p>`;
}

/** A coded outcome: its message from the catalog, or an honest "unknown" that still shows what was sent. */
function outcome(message: string | undefined, code: string): SafeHtml {
  return message
    ? html`<p class="message" data-code="${code}">${inlineMarkup(message)}</p>`
    : html`<p class="message" data-code="${code}">
        Something went wrong (code <code>${code}</code>, which this page does not know). Start again.
      </p>`;
}

function connectionDetails(connection: ConnectionView | null): SafeHtml {
  if (!connection)
    return html`<p>
      This organization is not connected to a Microsoft Entra ID tenant. An Owner or Admin connects it with
      <code>POST /api/v1/integrations/entra/connect</code> (in <a href="${ROUTES.docs}">Swagger UI</a>).
    </p>`;
  return html`<dl class="connection">
    <dt>Tenant</dt>
    <dd>${connection.tenantName ?? 'unnamed tenant'}</dd>
    <dt>Tenant id</dt>
    <dd><code>${connection.tenantId}</code></dd>
    <dt>Connection</dt>
    <dd>${connection.status.replace(/_/g, ' ')}</dd>
    <dt>Connected at</dt>
    <dd><time datetime="${connection.connectedAt}">${connection.connectedAt}</time></dd>
    <dt>Verified domains</dt>
    <dd>${connection.verifiedDomains.join(', ') || 'none'}</dd>
  </dl>`;
}

const navigation = html`<nav>
  <a href="${ROUTES.home}">Home</a> · <a href="${ROUTES.docs}">Swagger UI</a> ·
  <a href="${ROUTES.entraSettings}">Microsoft Entra ID</a>
</nav>`;

const signOut = html`<p><button type="button" id="sign-out">Sign out</button></p>
  <p class="status" id="page-status" role="status"></p>`;

export function homePage(me: SignedInView): string {
  return layout(
    'Signed in',
    html`${navigation}
      <p>
        You are signed in as <strong>${me.displayName}</strong> (${me.email}), <strong>${me.role}</strong> of
        the organization <strong>${me.organizationName}</strong> (plan ${me.plan}).
      </p>
      <h2>Microsoft Entra ID</h2>
      ${connectionDetails(me.connection)}
      <h2>Use the API</h2>
      <p>
        <a class="button" href="${ROUTES.docs}">Open Swagger UI</a> — it sends your session cookie with every
        call; try <code>GET /api/v1/me</code>.
      </p>
      ${signOut}`,
    { script: true },
  );
}

export function signedOutHomePage(): string {
  return layout(
    'Not signed in',
    html`<p>You are not signed in (or your session ended).</p>
      ${signInLink()}
      <p><a href="${ROUTES.docs}">Swagger UI</a> documents the API.</p>`,
  );
}

export function signInPage(query: ResultQuery): string {
  const code = query.error;
  if (!code)
    return layout(
      'Sign in',
      html`<p>Sign in with your work or school Microsoft account.</p>
        ${signInLink()}`,
    );
  const reason = query.reason ? PENDING_REASONS[query.reason] : undefined;
  return layout(
    code === 'account_pending' ? 'Your account is not active yet' : 'Sign-in did not complete',
    html`${outcome(messageOf('sign_in_redirect', code), code)}
    ${reason ? html`<p class="reason" data-reason="${query.reason}">${reason}</p>` : ''}
    ${retryHint(query.retryAfter)} ${signInLink(undefined, 'Sign in again')}`,
  );
}

export function chooseOrganizationPage(): string {
  return layout(
    'Choose your organization',
    html`<p>Several organizations invited you. Choose the one to join; the others keep their invitations.</p>
      <ul class="invitations" id="invitations" data-source="/auth/invitations"></ul>
      <p class="status" id="page-status" role="status">Loading your invitations…</p>
      <noscript><p>This page needs JavaScript to list and accept your invitations.</p></noscript>
      <p><a href="${loginUrl()}">Sign in again</a> if the choice expired (it lasts 10 minutes).</p>`,
    { script: true },
  );
}

function connectOutcome(query: ResultQuery): SafeHtml {
  if (query.status === 'connected')
    return html`<p class="message" data-status="connected">The tenant is connected.</p>`;
  if (query.status === 'error') {
    const code = query.code ?? 'connection_failed';
    const message = messageOf('connect_redirect', code) ?? CONNECT_PAGE_EXTRA_CODES[code];
    return html`${outcome(message, code)}${retryHint(query.retryAfter)}`;
  }
  return html``;
}

function connectTitle(query: ResultQuery): string {
  if (query.status === 'connected') return 'Microsoft Entra ID connected';
  if (query.status === 'error') return 'Microsoft Entra ID was not connected';
  return 'Microsoft Entra ID';
}

export function entraSettingsPage(query: ResultQuery, connection: ConnectionView | null): string {
  return layout(
    connectTitle(query),
    html`${navigation}${connectOutcome(query)}
      <h2>Connection</h2>
      ${connectionDetails(connection)}`,
    { script: false },
  );
}

function assignmentOutcome(query: ResultQuery): SafeHtml {
  if (query.status === 'enabled')
    return html`<p class="message" data-status="enabled">
      Tenant assignment is enabled: new sign-ins from your tenant on the verified domains join this
      organization.
    </p>`;
  if (query.status === 'error') {
    const code = query.code ?? 'unknown';
    return outcome(messageOf('assignment_redirect', code), code);
  }
  return html``;
}

function assignmentTitle(query: ResultQuery): string {
  if (query.status === 'enabled') return 'Tenant assignment enabled';
  if (query.status === 'error') return 'Tenant assignment was not verified';
  return 'Tenant assignment';
}

export function tenantAssignmentPage(query: ResultQuery): string {
  return layout(
    assignmentTitle(query),
    html`${navigation}${assignmentOutcome(query)}
      <p>
        The allowlist and its status are at <code>GET /api/v1/tenant-assignment</code> (in
        <a href="${ROUTES.docs}">Swagger UI</a>).
      </p>`,
  );
}

/** A settings page opened without a session: the outcome it carries, and a way to sign in and come back. */
export function signedOutSettingsPage(path: string, query: ResultQuery): string {
  const assignment = path === ROUTES.tenantAssignment;
  return layout(
    assignment ? assignmentTitle(query) : connectTitle(query),
    html`${assignment ? assignmentOutcome(query) : connectOutcome(query)}
      <p>You are not signed in in this browser, so the organization’s settings are not shown.</p>
      ${signInLink(path, 'Sign in to see them')}`,
  );
}

/** Any other refusal of a page, from the problem the API would have answered. */
export function problemPage(title: string, detail: string): string {
  return layout(
    title,
    html`<p class="message">${detail}</p>
      <p><a href="${ROUTES.home}">Home</a></p>`,
  );
}
