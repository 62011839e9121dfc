/**
 * PostgreSQL's unique_violation: the database's last word when two requests race for the same key. Only
 * repositories look at driver errors; they translate them into their module's domain errors.
 */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** The unique index or constraint a unique_violation names. */
function violatedConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown; driverError?: { constraint?: unknown } } | null) ?? {};
  const name = constraint.constraint ?? constraint.driverError?.constraint;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Runs a write and turns a unique_violation into what `translate` answers for the violated constraint (a
 * domain error to throw); `undefined` lets the original error through.
 */
export async function translateUniqueViolation<T>(
  write: Promise<T>,
  translate: (constraint: string | undefined) => Error | undefined,
): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error)) throw translate(violatedConstraint(error)) ?? error;
    throw error;
  }
}

/**
 * SQLSTATEs that say the database, not the request, failed: connection exceptions (class 08), the server
 * shutting down or starting (57P01–57P03), out of connections (53300), a cancelled statement (57014, which
 * `statement_timeout` raises), the database gone (3D000). From PostgreSQL's "Appendix A. Error Codes".
 */
const OUTAGE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '3D000']);

/**
 * The socket errors of a server that cannot be reached (node:net, dns). Our HTTP clients (Graph, Microsoft's
 * token endpoint, webhooks) wrap theirs, so one of these reaching an error filter came from the database.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * node-postgres' own messages when it has no usable connection: the pool's wait ran out
 * (`connectionTimeoutMillis`), or the server closed the connection (a restart, a failover,
 * `idle_in_transaction_session_timeout`).
 */
const OUTAGE_MESSAGES =
  /^(timeout exceeded when trying to connect|Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable)$/;

/**
 * Why the database could not serve the work at all (down, restarting, dropped, unreachable, out of connections,
 * slower than `statement_timeout`), in one line for the log; undefined when the error is anything else (the
 * database refused what it was asked, or the work itself failed). TypeORM's QueryFailedError carries the driver's
 * `code`, and some of its errors keep the driver's beside them (`driverError`).
 */
export function databaseOutage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const own = (error as { code?: unknown }).code;
  const driver = (error as { driverError?: { code?: unknown } }).driverError?.code;
  const code = typeof own === 'string' ? own : typeof driver === 'string' ? driver : '';
  const firstLine = error.message.split('\n')[0];
  const outage =
    code.startsWith('08') ||
    OUTAGE_SQLSTATES.has(code) ||
    UNREACHABLE_CODES.has(code) ||
    OUTAGE_MESSAGES.test(firstLine);
  return outage ? `${code ? `${code}: ` : ''}${firstLine}` : undefined;
}
