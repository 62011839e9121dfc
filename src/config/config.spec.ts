import { describe, expect, it } from 'vitest';
import { ConfigError, cookiesAreSecure, loadConfig } from './config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.appBaseUrl).toBe('http://localhost:3000');
    expect(config.appUiUrl).toBe('http://localhost:3000');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config.entra.authorityHost).toBe('https://login.microsoftonline.com');
    expect(config.entra.graphBaseUrl).toBe('https://graph.microsoft.com');
    expect(config.entra.clientId).toBeUndefined();
  });

  it('derives APP_BASE_URL from PORT and APP_UI_URL from APP_BASE_URL', () => {
    expect(loadConfig({ PORT: '8080' }).appUiUrl).toBe('http://localhost:8080');
    expect(loadConfig({ APP_BASE_URL: 'https://api.example.com/' }).appUiUrl).toBe('https://api.example.com');
  });

  it('names each invalid variable', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      APP_BASE_URL: 'not a url',
      ENTRA_AUTHORITY_HOST: 'http://login.example',
      DATABASE_URL: 'mysql://x',
    });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/APP_BASE_URL/);
    expect(problems.join('\n')).toMatch(/ENTRA_AUTHORITY_HOST must be a https: URL/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
  });

  it('runs one process unless WEB_CONCURRENCY asks for 1 to 32 workers, and names a bad value', () => {
    expect(loadConfig({}).webConcurrency).toBe(1);
    expect(loadConfig({ WEB_CONCURRENCY: '4' }).webConcurrency).toBe(4);
    for (const value of ['0', '-2', 'two', '1.5', '33'])
      expect(problemsOf({ WEB_CONCURRENCY: value })).toEqual([
        `WEB_CONCURRENCY must be an integer between 1 and 32 (got "${value}")`,
      ]);
  });

  it('bounds the service’s database calls by default, each bound overridable and validated', () => {
    expect(loadConfig({}).databaseTimeouts).toEqual({
      statementMs: 60_000,
      idleInTransactionMs: 60_000,
      connectMs: 10_000,
    });
    expect(
      loadConfig({
        DATABASE_STATEMENT_TIMEOUT_MS: '5000',
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '45000',
        DATABASE_CONNECT_TIMEOUT_MS: '2000',
      }).databaseTimeouts,
    ).toEqual({ statementMs: 5000, idleInTransactionMs: 45_000, connectMs: 2000 });
    expect(problemsOf({ DATABASE_STATEMENT_TIMEOUT_MS: '0', DATABASE_CONNECT_TIMEOUT_MS: 'soon' })).toEqual([
      'DATABASE_STATEMENT_TIMEOUT_MS must be an integer between 100 and 3600000 (got "0")',
      'DATABASE_CONNECT_TIMEOUT_MS must be an integer between 100 and 600000 (got "soon")',
    ]);
  });

  it('reads DATABASE_PREPARED_STATEMENTS as true or false, true by default', () => {
    expect(loadConfig({}).databasePreparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements).toBe(false);
    expect(problemsOf({ DATABASE_PREPARED_STATEMENTS: 'yes' }).join('\n')).toMatch(
      /DATABASE_PREPARED_STATEMENTS/,
    );
  });

  it('requires the secret with the client id', () => {
    expect(problemsOf({ ENTRA_CLIENT_ID: 'abc' })).toEqual([expect.stringMatching(/ENTRA_CLIENT_SECRET/)]);
  });

  it('forbids every development fallback in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' }).join('\n');
    expect(problems).toMatch(/ENTRA_CLIENT_ID is required in production/);
    expect(problems).toMatch(/ENTRA_CLIENT_SECRET is required in production/);
    expect(problems).toMatch(/DATABASE_URL is required in production/);
    expect(problems).toMatch(/APP_BASE_URL is required in production/);
    expect(problems).toMatch(/TOKEN_ENCRYPTION_KEYS is required in production/);
    const ok = loadConfig({
      TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      NODE_ENV: 'production',
      ENTRA_CLIENT_ID: 'id',
      ENTRA_CLIENT_SECRET: 'secret',
      DATABASE_URL: 'postgresql://db/app',
      APP_BASE_URL: 'https://api.example.com',
    });
    expect(ok.nodeEnv).toBe('production');
  });

  it('parses the token keyring, first key encrypts, and never echoes a bad value', () => {
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const config = loadConfig({ TOKEN_ENCRYPTION_KEYS: `k2:${k2}, k1:${k1}` });
    expect(config.tokenEncryptionKeys?.currentKeyId).toBe('k2');
    expect([...config.tokenEncryptionKeys!.keys.keys()]).toEqual(['k2', 'k1']);

    const short = problemsOf({ TOKEN_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }).join('\n');
    expect(short).toMatch(/TOKEN_ENCRYPTION_KEYS is invalid: key "k1" must be 32 random bytes/);
    expect(short).not.toContain('c2hvcnQ=');
    expect(problemsOf({ TOKEN_ENCRYPTION_KEYS: `k1:${k1},k1:${k2}` }).join()).toMatch(/appears twice/);
    expect(problemsOf({ TOKEN_ENCRYPTION_KEYS: k1 }).join()).toMatch(/TOKEN_ENCRYPTION_KEYS is invalid/);
  });

  it('trusts the API’s and the SPA’s origins for cookie writes, plus TRUSTED_ORIGINS', () => {
    expect(
      loadConfig({
        APP_BASE_URL: 'https://api.example.com/v',
        APP_UI_URL: 'https://app.example.com',
        TRUSTED_ORIGINS: 'https://admin.example.com, http://localhost:5173',
      }).trustedOrigins,
    ).toEqual([
      'https://api.example.com',
      'https://app.example.com',
      'https://admin.example.com',
      'http://localhost:5173',
    ]);
    expect(problemsOf({ TRUSTED_ORIGINS: 'https://admin.example.com/path' })).toEqual([
      expect.stringContaining('TRUSTED_ORIGINS'),
    ]);
    expect(problemsOf({ TRUSTED_ORIGINS: '*' })).toEqual([expect.stringContaining('TRUSTED_ORIGINS')]);
  });

  it('keeps Node’s header timeout within the request timeout', () => {
    expect(loadConfig({}).http).toMatchObject({ requestTimeoutMs: 30_000, headersTimeoutMs: 20_000 });
    expect(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '400' }).http).toMatchObject({
      requestTimeoutMs: 400,
      headersTimeoutMs: 400,
    });
    expect(loadConfig({}).session.idleMinutes).toBe(60);
  });

  it('marks cookies Secure everywhere but plain-http loopback', () => {
    expect(cookiesAreSecure(loadConfig({}))).toBe(false);
    expect(cookiesAreSecure(loadConfig({ APP_BASE_URL: 'https://api.example.com' }))).toBe(true);
    expect(cookiesAreSecure(loadConfig({ APP_BASE_URL: 'http://10.0.0.5:3000' }))).toBe(true);
  });
});

describe('TRUST_PROXY', () => {
  it('takes a hop count or a list of proxy addresses, CIDRs and Express presets', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback,2001:db8::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
      '2001:db8::1',
    ]);
  });

  it('refuses a blanket true at boot and says what to set instead', () => {
    const [problem] = problemsOf({ TRUST_PROXY: 'true' });
    expect(problem).toMatch(/TRUST_PROXY=true is refused/);
    expect(problem).toMatch(/TRUST_PROXY=1/);
    expect(problem).toMatch(/CIDR/);
  });

  it('names entries that are neither an address nor a CIDR', () => {
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/33' }).join()).toMatch(/invalid: "10.0.0.0\/33"/);
    expect(problemsOf({ TRUST_PROXY: 'proxy.example.com' }).join()).toMatch(/TRUST_PROXY/);
    expect(problemsOf({ TRUST_PROXY: '99' }).join()).toMatch(/hop count/);
  });
});

describe('sign-in limits', () => {
  it('defaults to a ceiling no office reaches and tight budgets for failures', () => {
    expect(loadConfig({}).signInLimits).toEqual({
      successesPerMinute: 1000,
      failuresPerAddress: 100,
      failuresPerAccount: 20,
      failureWindowMinutes: 15,
      openFlowsPerAddress: 500,
      openFlowWindowMinutes: 10,
    });
    expect(problemsOf({ SIGN_IN_FAILURES_PER_ADDRESS: '0' }).join()).toMatch(/SIGN_IN_FAILURES_PER_ADDRESS/);
  });
});

describe('.env.example', () => {
  it('documents every variable the configuration reads', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('./config.ts', import.meta.url), 'utf8');
    const read = [...source.matchAll(/(?:read|oneOf|integer|url)\('([A-Z_]+)'/g)].map((m) => m[1]);
    const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(10);
    expect([...new Set(read)].filter((name) => !documented.includes(name))).toEqual([]);
  });
});
