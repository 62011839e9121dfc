/**
 * What the SCIM conformance run and bench:scim share: an organization made ready for SCIM the way a new user makes
 * it ready — signed in with Microsoft (Owner of a new organization), on the Enterprise plan, and a SCIM token created
 * through the REST API (the token is shown once, in the 201).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './bench-support.js';

/**
 * `npm run cli -- orgs:set-plan <id> enterprise`, against the running service's embedded database. Asynchronous: a
 * blocked event loop would keep fetch from noticing the keep-alive sockets the service closes meanwhile.
 */
export async function setPlanWithCli(organizationId: string, env: Record<string, string>): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(REPO, 'dist/src/cli/cli.js'), 'orgs:set-plan', organizationId, 'enterprise'],
    { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  if (code !== 0) throw new Error(`orgs:set-plan failed: ${output}`);
}

async function call(baseUrl: string, session: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${session}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

/** Creates a SCIM token (SCIM is on by default); returns the Tenant URL to paste and the Secret Token. */
export async function createScimToken(
  baseUrl: string,
  session: string,
  name = 'Entra provisioning',
): Promise<{ tenantUrl: string; token: string }> {
  const created = await call(baseUrl, session, 'POST', '/api/v1/integrations/scim/tokens', { name });
  const { token, tenantUrl } = created;
  if (typeof token !== 'string')
    throw new Error(`the token response carries no token: ${JSON.stringify(created)}`);
  return { tenantUrl: typeof tenantUrl === 'string' ? tenantUrl : `${baseUrl}/scim/v2`, token };
}
