import { ConsoleLogger, type LogLevel } from '@nestjs/common';
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

/** JSON lines, each carrying the id of the request it was written for (when there is one). */
export class AppLogger extends ConsoleLogger {
  constructor(level: 'error' | 'warn' | 'log' | 'debug' | 'verbose') {
    super({ json: true, logLevels: LEVELS.slice(0, LEVELS.indexOf(level) + 1), redact: REDACTED_KEYS });
  }

  protected override getJsonLogObject(...args: Parameters<ConsoleLogger['getJsonLogObject']>) {
    const record = super.getJsonLogObject(...args);
    const requestId = currentRequestId();
    return requestId ? { ...record, requestId } : record;
  }
}
