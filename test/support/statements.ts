import pg from 'pg';

export interface SentStatement {
  /** The connection that sent it. */
  client: pg.Client;
  /** The SQL text, whitespace collapsed. */
  text: string;
  /** A named prepared statement's name. */
  name?: string;
}

/**
 * Every statement the process's `pg` clients send while `send` runs, in order: the service's and the tests' own
 * alike, and background work too (the job queue's polls, the provisioning log's batched writes), which callers
 * tell apart by connection or by text.
 */
export async function statementsSentDuring(send: () => Promise<unknown>): Promise<SentStatement[]> {
  const sent: SentStatement[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as { text?: string; name?: string } | undefined;
    const text = typeof args[0] === 'string' ? args[0] : config?.text;
    if (typeof text === 'string')
      sent.push({ client: this, text: text.replace(/\s+/g, ' ').trim(), name: config?.name });
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await send();
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}
