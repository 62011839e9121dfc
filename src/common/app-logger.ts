import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { currentRequestId } from './request-context.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Names of properties that hold secrets. Nothing logs them on purpose; masking them is the safety net for a
 * structured value logged by mistake (an error carrying a request, a token response...).
 */
export const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'code',
  'code_verifier',
  'codeVerifier',
];

/** What the access log records of a finished request: known fields, none of them a secret. */
export interface AccessRecord {
  message: 'request';
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
}

/** The logger that writes the access log in batches, once main.ts has installed it. */
let installed: { access(record: AccessRecord): void } | undefined;

/**
 * One access-log line per finished request, as `Logger.log(record, 'HTTP')` writes it. Through the installed
 * AppLogger (the deployed service), lines finished within one turn of the event loop go out in one write
 * to stdout (a synchronous write per request was a measurable part of each request's CPU); elsewhere
 * (tests with Nest's own logger) through `Logger`.
 */
export function logAccess(record: AccessRecord): void {
  if (installed) installed.access(record);
  else Logger.log(record, 'HTTP');
}

/** JSON lines, each carrying the id of the request it was written for (when there is one). */
export class AppLogger extends ConsoleLogger {
  private pending: string[] = [];
  private flushScheduled = false;

  constructor(level: 'error' | 'warn' | 'log' | 'debug' | 'verbose') {
    super({ json: true, logLevels: LEVELS.slice(0, LEVELS.indexOf(level) + 1), redact: REDACTED_KEYS });
  }

  /** Makes this the logger of Nest's `Logger` and of the access log. */
  install(): this {
    Logger.overrideLogger(this);
    installed = { access: (record) => this.access(record) };
    process.once('exit', () => this.flush());
    return this;
  }

  protected override getJsonLogObject(...args: Parameters<ConsoleLogger['getJsonLogObject']>) {
    const record = super.getJsonLogObject(...args);
    const requestId = currentRequestId();
    return requestId ? { ...record, requestId } : record;
  }

  /**
   * Queues the line for the end of the current turn of the event loop. The record's fields are known and
   * plain, so it skips the redaction walk and the generic serialization of `log`.
   */
  access(record: AccessRecord): void {
    if (!this.isLevelEnabled('log')) return;
    // What JSON.stringify of `{level, pid, timestamp, message: record, context, requestId}` writes, assembled
    // directly: only the path can need escaping (the request id is checked at the edge, the method is a token).
    const id = JSON.stringify(record.requestId);
    this.pending.push(
      `{"level":"log","pid":${process.pid},"timestamp":${Date.now()},"message":{"message":"request","requestId":${id},` +
        `"method":${JSON.stringify(record.method)},"path":${JSON.stringify(record.path)},"status":${record.status},` +
        `"durationMs":${record.durationMs}},"context":"HTTP","requestId":${id}}`,
    );
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the queued access-log lines now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  // Any other line waits for the queued access-log lines, so lines keep the order they were written in.
  protected override printMessages(...args: Parameters<ConsoleLogger['printMessages']>): void {
    this.flush();
    super.printMessages(...args);
  }
}
