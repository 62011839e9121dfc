import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from './fixture.js';
import { EmulatorPortInUseError } from './server.js';
import {
  appGraphToken,
  call,
  claims,
  graphPages,
  json,
  postForm,
  postJson,
  signInForTokens,
  startTestEmulator,
  TEST_CLIENT,
  tokenUrl,
  type TestEmulator,
} from './test-support.js';

type DeltaItem = { id: string; accountEnabled?: boolean; '@removed'?: { reason: string } };

const contoso = DEMO.tenants.contoso.id;
const { megan, adele } = DEMO.users;

describe('the emulator state file (kept across restarts)', () => {
  let dir: string;
  let stateFile: string;
  let running: TestEmulator | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-state-'));
    stateFile = join(dir, 'emulator', 'state.json');
  });
  afterEach(async () => {
    await running?.emulator.close();
    running = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () => (running = await startTestEmulator({ stateFile }));
  const restart = async () => {
    await running?.emulator.close();
    running = undefined;
    return start();
  };

  it('comes back on the same port, with its tenants, consent, refresh tokens, keys and delta links', async () => {
    let t = await start();
    const url = t.emulator.url;
    const tenant = t.emulator.store.addTenant({
      displayName: 'Northwind',
      verifiedDomains: ['northwind.test'],
    });
    const signedIn = await signInForTokens(t, { loginHint: adele.upn, scope: 'openid offline_access' });
    const graphToken = await appGraphToken(t, contoso, ['User.Read.All']);
    t.emulator.store.generateUsers(contoso, 150);
    const round1 = await graphPages<DeltaItem>(t, '/users/delta?$select=id,accountEnabled', graphToken);
    t.emulator.store.updateUser(megan.id, { accountEnabled: false });

    t = await restart();

    expect(t.emulator.url).toBe(url);
    expect(t.emulator.store.findTenant(tenant.id)?.displayName).toBe('Northwind');
    expect(t.emulator.store.findGrant(contoso, TEST_CLIENT.clientId)?.roles).toEqual(['User.Read.All']);
    expect(t.emulator.store.findGrant(contoso, TEST_CLIENT.clientId)?.grantedAt).toBeInstanceOf(Date);
    // The ID token and the access token issued before the restart still verify against the published keys.
    const jwks = json<{ keys: { kid: string }[] }>(await call(`${url}/${contoso}/discovery/v2.0/keys`, t.ca));
    const kid = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string };
    expect(jwks.keys.map((k) => k.kid)).toContain(kid(signedIn.id_token!).kid);
    // The delta link of the last round reports exactly the change made before the restart.
    const round2 = await graphPages<DeltaItem>(t, round1.deltaLink!, graphToken);
    expect(round2.pages.flat()).toEqual([{ id: megan.id, accountEnabled: false }]);
    // The refresh token is honoured, and its successor after one more restart.
    const refreshed = await postForm(tokenUrl(url), t.ca, {
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: signedIn.refresh_token!,
      scope: 'openid offline_access',
    });
    expect(refreshed.status, refreshed.text).toBe(200);
    const next = json<{ refresh_token: string; id_token: string }>(refreshed);
    expect(claims(next.id_token).oid).toBe(adele.id);
    t = await restart();
    const again = await postForm(tokenUrl(url), t.ca, {
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: next.refresh_token,
      scope: 'openid offline_access',
    });
    expect(again.status, again.text).toBe(200);
  });

  it('is written with mode 0600, atomically (no temporary file is left), with the port it listens on', async () => {
    await start();
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect((await readdir(join(dir, 'emulator'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { port: number; version: number };
    expect(saved).toMatchObject({ version: 1, port: Number(new URL(running!.emulator.url).port) });
  });

  it('writes a change made over HTTP soon after answering, without waiting for a clean shutdown', async () => {
    const t = await start();
    const patched = await postJson(
      `${t.emulator.url}/_emulator/users/${megan.id}`,
      t.ca,
      { accountEnabled: false },
      'PATCH',
    );
    expect(patched.status).toBe(200);
    const savedMegan = async () => {
      const saved = JSON.parse(await readFile(stateFile, 'utf8')) as {
        store: { directory: { tenants: { slots: { id: string; accountEnabled?: boolean }[] }[] } };
      };
      return saved.store.directory.tenants.flatMap((x) => x.slots).find((u) => u.id === megan.id);
    };
    // Polled, as a process killed at any moment after the answer would find it (a guard, not a timing claim).
    for (let i = 0; i < 100 && (await savedMegan())?.accountEnabled !== false; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await savedMegan())?.accountEnabled).toBe(false);
  });

  it('refuses in one line when its saved port is taken, instead of moving to another one', async () => {
    const t = await start();
    const port = Number(new URL(t.emulator.url).port);
    await t.emulator.close();
    running = undefined;
    const squatter = createServer();
    await new Promise<void>((done) => squatter.listen(port, '127.0.0.1', done));
    try {
      const attempt = startTestEmulator({ stateFile });
      await expect(attempt).rejects.toBeInstanceOf(EmulatorPortInUseError);
      await expect(attempt).rejects.toThrow(`127.0.0.1:${port}, kept in ${stateFile}`);
    } finally {
      await new Promise((done) => squatter.close(done));
    }
  });

  it('moves a damaged file aside and starts from the fixture, saying so', async () => {
    const t = await start();
    await t.emulator.close();
    running = undefined;
    await writeFile(stateFile, '{"version": 1, "port": ', { mode: 0o600 });
    const lines: string[] = [];
    running = await startTestEmulator({ stateFile, logger: (line) => lines.push(line) });
    expect(running.emulator.store.findUser(megan.id)?.accountEnabled).toBe(true);
    expect(lines.some((l) => l.includes('damaged or from another version: moved to'))).toBe(true);
    expect((await readdir(join(dir, 'emulator'))).some((f) => f.startsWith('state.json.unreadable-'))).toBe(
      true,
    );
  });
});
