import { isIP } from 'node:net';
import { resolve } from 'node:path';

/** The typed configuration. Built once at boot by `loadConfig`; nothing else reads `process.env`. */
export interface AppConfig {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  /**
   * How many processes serve HTTP on `port`. 1: this process alone. More: this process becomes a cluster
   * primary that prepares the database once and runs that many workers, each a full replica.
   */
  webConcurrency: number;
  appBaseUrl: string;
  appUiUrl: string;
  /** Undefined means: run the embedded PostgreSQL in `dataDir/postgres`. */
  databaseUrl: string | undefined;
  /**
   * Whether the hot reads (the session lookup, the users list's pages) run as named prepared statements. Off
   * behind a pooler that cannot carry them, such as PgBouncer in transaction mode before 1.21.
   */
  databasePreparedStatements: boolean;
  /** Bounds on the service's own database calls (not on migrations or the CLI, which may legitimately run long). */
  databaseTimeouts: DatabaseTimeouts;
  dataDir: string;
  entra: {
    /** Undefined only outside production, where `npm start` starts the bundled emulator instead. */
    clientId: string | undefined;
    clientSecret: string | undefined;
    authorityHost: string;
    graphBaseUrl: string;
    /** A Graph request (its retries after `Retry-After` included) gives up after this long. */
    graphTimeoutMs: number;
  };
  /** Absolute lifetime, and how long a session may sit unused before it ends. */
  session: { ttlHours: number; idleMinutes: number };
  /**
   * Origins whose pages may change state with the session cookie: APP_BASE_URL's, APP_UI_URL's and
   * TRUSTED_ORIGINS.
   */
  trustedOrigins: string[];
  /** Node's server limits: a whole request (headers and body), the headers alone, an idle keep-alive socket. */
  http: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number };
  /**
   * Keys for tokens encrypted at rest, first one encrypts, all decrypt. Undefined outside production means
   * a development key generated into `dataDir`.
   */
  tokenEncryptionKeys: Keyring | undefined;
  signInLimits: SignInLimits;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  sync: { workerEnabled: boolean; pollIntervalMs: number };
  /** Express `trust proxy`: how many proxy hops, or which proxy addresses, may name the client. */
  trustProxy: TrustProxy;
  /** Requests per minute of one API key, across all replicas. */
  apiKeyRequestsPerMinute: number;
  webhooks: {
    /** Whether this process delivers webhooks (every replica may; the job queue hands each job to one). */
    workerEnabled: boolean;
    /**
     * Whether endpoints may use http and loopback/private addresses: a local receiver in development and
     * tests. Never in production.
     */
    allowPrivateUrls: boolean;
    /** One delivery attempt gives up after this long. */
    timeoutMs: number;
    /** The waits between attempts of a failing delivery; after the last one it gives up. */
    retryDelaysSeconds: number[];
    /** Delivery jobs one replica handles side by side (each walks one endpoint). */
    concurrency: number;
  };
}

/** What the service's connection pool asks of PostgreSQL and of itself (see `dataSourceOptions`). */
export interface DatabaseTimeouts {
  /** PostgreSQL cancels any one statement (lock waits included) that runs longer (`statement_timeout`). */
  statementMs: number;
  /**
   * PostgreSQL ends a session left idle inside a transaction this long (`idle_in_transaction_session_timeout`),
   * so its locks are released.
   */
  idleInTransactionMs: number;
  /** A request waits at most this long for a connection of the pool (to open one, or for one to free up). */
  connectMs: number;
}

export type TrustProxy = false | number | string[];

/** Per client address (and per Microsoft account) budgets for the browser sign-in and connect flows. */
export interface SignInLimits {
  /** Successful sign-ins per address per minute: a ceiling an office never reaches. */
  successesPerMinute: number;
  /** Failed or forged callbacks per address within `failureWindowMinutes`. */
  failuresPerAddress: number;
  /** Refused sign-ins of one Microsoft account within `failureWindowMinutes`. */
  failuresPerAccount: number;
  failureWindowMinutes: number;
  /** Sign-ins started but not (yet) completed per address within `openFlowWindowMinutes`. */
  openFlowsPerAddress: number;
  openFlowWindowMinutes: number;
}

/** 5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h, then daily: the last attempt about three days in. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS = [5, 30, 120, 600, 3600, 10_800, 21_600, 43_200, 86_400, 86_400];

const TRUST_PROXY_PRESETS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Reads TRUST_PROXY as Express understands it, minus the blanket `true`: with `true` Express takes the
 * left-most X-Forwarded-For entry, which the client writes itself, so every per-address limit is void.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy | string {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true')
    return (
      'TRUST_PROXY=true is refused: it trusts every X-Forwarded-For entry, which the client chooses. ' +
      'Set the number of proxies in front of this service (e.g. TRUST_PROXY=1 for one load balancer) or ' +
      'their addresses/CIDRs (e.g. TRUST_PROXY=10.0.0.0/8,loopback)'
    );
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 10 ? hops : `TRUST_PROXY must be a hop count from 0 to 10 (got "${value}")`;
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const invalid = entries.filter((entry) => !isTrustedProxyEntry(entry));
  if (entries.length === 0 || invalid.length > 0)
    return (
      `TRUST_PROXY must be false, a hop count, or a comma-separated list of proxy addresses, CIDRs or ` +
      `${TRUST_PROXY_PRESETS.join('/')} (invalid: "${invalid.join('", "') || value}")`
    );
  return entries;
}

function isTrustedProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_PRESETS.includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

export interface Keyring {
  /** Id of the key new ciphertexts are written with. */
  currentKeyId: string;
  keys: Map<string, Buffer>;
}

/** Parses `id:<base64 of 32 bytes>` entries separated by commas; the first one encrypts. */
export function parseKeyring(value: string): Keyring | string {
  const keys = new Map<string, Buffer>();
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    if (separator < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id))
      return `entries must look like "k1:<base64 key>" (key ids: letters, digits, _ and -)`;
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (key.length !== 32)
      return `key "${id}" must be 32 random bytes in base64 (e.g. openssl rand -base64 32)`;
    if (keys.has(id)) return `key id "${id}" appears twice`;
    keys.set(id, key);
  }
  if (keys.size === 0) return 'no key given';
  return { currentKeyId: keys.keys().next().value!, keys };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Each worker holds up to 13 database connections (its pool of 10 and the job queue's 3); 32 workers stay within
 * a few hundred, and no machine this service runs on has more cores than that to give one instance.
 */
export const MAX_WEB_CONCURRENCY = 32;

const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
const NODE_ENVS = ['development', 'test', 'production'] as const;

/**
 * Validates the environment and returns the typed config, or throws a ConfigError that names every
 * offending variable. Empty strings count as unset, as in most .env tooling.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };

  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = read(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
    return fallback;
  };

  const secondsList = (name: string, fallback: number[]): number[] => {
    const value = read(name);
    if (value === undefined) return fallback;
    const parts = value.split(',').map((part) => Number(part.trim()));
    if (
      parts.length === 0 ||
      parts.length > 50 ||
      parts.some((n) => !Number.isInteger(n) || n < 1 || n > 86_400)
    ) {
      problems.push(
        `${name} must be a comma-separated list of 1 to 50 whole seconds, each 1 to 86400 (got "${value}")`,
      );
      return fallback;
    }
    return parts;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = read(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${value}")`);
      return fallback;
    }
    return parsed;
  };

  const url = (name: string, fallback: string | undefined, protocols: string[]): string | undefined => {
    const value = read(name) ?? fallback;
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must be a ${protocols.join(' or ')} URL (got "${value}")`);
      }
      return value.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be an absolute URL (got "${value}")`);
      return fallback;
    }
  };

  const nodeEnv = oneOf('NODE_ENV', NODE_ENVS, 'development');
  const production = nodeEnv === 'production';
  const port = integer('PORT', 3000, 0, 65535);
  const webConcurrency = integer('WEB_CONCURRENCY', 1, 1, MAX_WEB_CONCURRENCY);
  const appBaseUrl = url('APP_BASE_URL', `http://localhost:${port}`, ['http:', 'https:'])!;
  const appUiUrl = url('APP_UI_URL', appBaseUrl, ['http:', 'https:'])!;
  const databaseUrl = url('DATABASE_URL', undefined, ['postgres:', 'postgresql:']);
  const dataDir = resolve(read('DATA_DIR') ?? './.data');

  const clientId = read('ENTRA_CLIENT_ID');
  const clientSecret = read('ENTRA_CLIENT_SECRET');
  // Microsoft endpoints must be TLS: MSAL refuses http authorities, and tokens must never cross in clear text.
  const authorityHost = url('ENTRA_AUTHORITY_HOST', 'https://login.microsoftonline.com', ['https:'])!;
  const graphBaseUrl = url('GRAPH_BASE_URL', 'https://graph.microsoft.com', ['https:'])!;

  let tokenEncryptionKeys: Keyring | undefined;
  const keyring = read('TOKEN_ENCRYPTION_KEYS');
  if (keyring) {
    const parsed = parseKeyring(keyring);
    // Never echo the value: it is a secret.
    if (typeof parsed === 'string') problems.push(`TOKEN_ENCRYPTION_KEYS is invalid: ${parsed}`);
    else tokenEncryptionKeys = parsed;
  }

  if (clientId && !clientSecret) problems.push('ENTRA_CLIENT_SECRET is required when ENTRA_CLIENT_ID is set');
  if (production) {
    if (!clientId)
      problems.push(
        'ENTRA_CLIENT_ID is required in production (the bundled emulator is for development only)',
      );
    if (!clientSecret) problems.push('ENTRA_CLIENT_SECRET is required in production');
    if (!keyring) {
      problems.push(
        'TOKEN_ENCRYPTION_KEYS is required in production (a keyring like k1:<base64 of 32 bytes>)',
      );
    }
    if (!databaseUrl)
      problems.push(
        'DATABASE_URL is required in production (the embedded PostgreSQL is for development only)',
      );
    if (!read('APP_BASE_URL'))
      problems.push('APP_BASE_URL is required in production (redirect URIs derive from it)');
    else if (!appBaseUrl.startsWith('https://')) problems.push('APP_BASE_URL must be https in production');
  }

  const trustedOrigins = [new URL(appBaseUrl).origin, new URL(appUiUrl).origin];
  for (const entry of (read('TRUSTED_ORIGINS') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    let origin: string | undefined;
    try {
      const parsed = new URL(entry);
      if (
        (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
        parsed.origin === entry.replace(/\/$/, '')
      )
        origin = parsed.origin;
    } catch {
      origin = undefined;
    }
    if (origin) trustedOrigins.push(origin);
    else
      problems.push(`TRUSTED_ORIGINS entries must be origins like https://app.example.com (got "${entry}")`);
  }

  const requestTimeoutMs = integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000);

  const parsedTrustProxy = parseTrustProxy(read('TRUST_PROXY'));
  const trustProxy = typeof parsedTrustProxy === 'string' ? false : parsedTrustProxy;
  if (typeof parsedTrustProxy === 'string') problems.push(parsedTrustProxy);

  const config: AppConfig = {
    nodeEnv,
    port,
    webConcurrency,
    appBaseUrl,
    appUiUrl,
    databaseUrl,
    databasePreparedStatements: oneOf('DATABASE_PREPARED_STATEMENTS', ['true', 'false'], 'true') === 'true',
    databaseTimeouts: {
      statementMs: integer('DATABASE_STATEMENT_TIMEOUT_MS', 60_000, 100, 3_600_000),
      // Above the 30 s a token refresh may take under the connection's lock, the one wait inside a transaction.
      idleInTransactionMs: integer('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 100, 3_600_000),
      connectMs: integer('DATABASE_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    dataDir,
    entra: {
      clientId,
      clientSecret,
      authorityHost,
      graphBaseUrl,
      graphTimeoutMs: integer('GRAPH_TIMEOUT_MS', 30_000, 100, 600_000),
    },
    session: {
      ttlHours: integer('SESSION_TTL_HOURS', 12, 1, 24 * 30),
      idleMinutes: integer('SESSION_IDLE_MINUTES', 60, 2, 24 * 60 * 30),
    },
    trustedOrigins: [...new Set(trustedOrigins)],
    http: {
      requestTimeoutMs,
      // Headers must arrive well before the whole request may; Node requires headersTimeout <= requestTimeout.
      headersTimeoutMs: Math.min(requestTimeoutMs, 20_000),
      keepAliveTimeoutMs: 5_000,
    },
    tokenEncryptionKeys,
    signInLimits: {
      successesPerMinute: integer('SIGN_IN_SUCCESSES_PER_MINUTE', 1000, 1, 1_000_000),
      failuresPerAddress: integer('SIGN_IN_FAILURES_PER_ADDRESS', 100, 1, 1_000_000),
      failuresPerAccount: integer('SIGN_IN_FAILURES_PER_ACCOUNT', 20, 1, 1_000_000),
      failureWindowMinutes: integer('SIGN_IN_FAILURE_WINDOW_MINUTES', 15, 1, 24 * 60),
      openFlowsPerAddress: integer('SIGN_IN_OPEN_FLOWS_PER_ADDRESS', 500, 1, 1_000_000),
      // A flow expires after 10 minutes: by then an unfinished one is abandoned for good.
      openFlowWindowMinutes: 10,
    },
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'log'),
    sync: {
      workerEnabled: oneOf('SYNC_WORKER_ENABLED', ['true', 'false'], 'true') === 'true',
      pollIntervalMs: integer('SYNC_POLL_INTERVAL_MS', 5000, 50, 600_000),
    },
    trustProxy,
    apiKeyRequestsPerMinute: integer('API_KEY_REQUESTS_PER_MINUTE', 600, 1, 1_000_000),
    webhooks: {
      workerEnabled: oneOf('WEBHOOK_WORKER_ENABLED', ['true', 'false'], 'true') === 'true',
      allowPrivateUrls:
        oneOf(
          'WEBHOOK_ALLOW_PRIVATE_URLS',
          ['true', 'false'],
          nodeEnv === 'production' ? 'false' : 'true',
        ) === 'true',
      timeoutMs: integer('WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
      retryDelaysSeconds: secondsList('WEBHOOK_RETRY_DELAYS_SECONDS', DEFAULT_WEBHOOK_RETRY_DELAYS),
      concurrency: integer('WEBHOOK_CONCURRENCY', 40, 1, 1000),
    },
  };
  if (config.webhooks.allowPrivateUrls && nodeEnv === 'production')
    problems.push('WEBHOOK_ALLOW_PRIVATE_URLS=true is refused in production: it would open the API to SSRF');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Whether browser cookies can carry the `Secure` flag: everywhere except plain-http loopback development. */
export function cookiesAreSecure(config: AppConfig): boolean {
  const { protocol, hostname } = new URL(config.appBaseUrl);
  const loopback = hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
  return protocol === 'https:' || !loopback;
}
