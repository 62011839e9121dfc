/**
 * What a benchmark reads besides latency: CPU time of a process (and its children) from /proc, and the
 * transactions PostgreSQL committed — per request, these compare two builds back to back on a shared machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/** Transactions PostgreSQL has committed in the database so far (each statement outside a transaction is one). */
export async function transactions(databaseUrl: string): Promise<number> {
  // Idle backends publish their counts at most once a second.
  await new Promise((r) => setTimeout(r, 1_500));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

/** CPU time (user + system) a process and, with `children`, its direct children have used so far, in ms. */
export function cpuMs(pid: number, children = false): number {
  const stat = (p: number | string) => {
    try {
      // Fields after the command name (which may hold spaces): state is [0], ppid [1], utime [11], stime [12].
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
    } catch {
      return { ppid: 0, ticks: 0 };
    }
  };
  let ticks = stat(pid).ticks;
  if (children)
    for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      const s = stat(entry);
      if (s.ppid === pid) ticks += s.ticks;
    }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** The postmaster's pid, from the data directory of an embedded PostgreSQL. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}
