/**
 * Whether an error says the database cannot be reached right now (down, restarting, dropped, the connection
 * cut), rather than that something is wrong with the work itself. The sync worker meets these while
 * PostgreSQL is away and tries again at its next poll: worth one line, not a stack trace per poll.
 *
 * SQLSTATE classes from PostgreSQL's "Appendix A. Error Codes": 08 (connection exception), 57P01–57P03
 * (admin/crash shutdown, cannot connect now), 3D000 (the database does not exist, as after a drop).
 */
export function databaseOutage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const driver = (error as { driverError?: { code?: unknown } }).driverError?.code;
  const sqlState = typeof code === 'string' ? code : typeof driver === 'string' ? driver : '';
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'];
  const outage =
    sqlState.startsWith('08') ||
    ['57P01', '57P02', '57P03', '3D000'].includes(sqlState) ||
    network.includes(sqlState) ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
  return outage ? `${sqlState ? `${sqlState}: ` : ''}${error.message.split('\n')[0]}` : undefined;
}
