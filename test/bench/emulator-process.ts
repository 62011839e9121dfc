/**
 * The benchmark's Entra emulator, in its own process so that the API process' memory is measured alone.
 * Driven over IPC: start → generate a tenant → link its users in the benchmark database → change users.
 */
import pg from 'pg';
import { DEMO, startEntraEmulator, type EntraEmulator } from '@entra-integration/entra-emulator';

type Command =
  | { type: 'start'; cert: string; key: string; redirectUris: string[] }
  | { type: 'generate'; count: number; disabledEvery: number; deletedEvery: number }
  | { type: 'link'; databaseUrl: string; organizationId: string }
  | { type: 'disable'; count: number }
  | { type: 'settings'; latencyMs: number }
  | { type: 'stats' };

let emulator: EntraEmulator;
let ids: string[] = [];
const tenantId = DEMO.tenants.contoso.id;

async function handle(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'start':
      emulator = await startEntraEmulator({
        tls: { cert: command.cert, key: command.key },
        clients: [{ ...DEMO.client, redirectUris: command.redirectUris }],
        // BENCH_GRAPH_LOG=1 prints every request the emulator answers (method, path, status, time).
        logger: process.env.BENCH_GRAPH_LOG ? (line) => console.error(line) : undefined,
      });
      return { url: emulator.url };
    case 'generate': {
      const started = Date.now();
      ids = emulator.store.generateUsers(tenantId, command.count, { disabledEvery: command.disabledEvery });
      // Deleted without being disabled: they vanish from the listing and answer 404.
      // Offset by half a step so that deleted users were never disabled first.
      for (let i = Math.floor(command.deletedEvery / 2); i < ids.length; i += command.deletedEvery)
        emulator.store.deleteUser(ids[i]);
      return { generatedMs: Date.now() - started };
    }
    case 'link': {
      const client = new pg.Client({ connectionString: command.databaseUrl });
      await client.connect();
      try {
        for (let offset = 0; offset < ids.length; offset += 10_000) {
          const chunk = ids.slice(offset, offset + 10_000);
          await client.query(
            `WITH src AS (SELECT oid, ord FROM unnest($3::uuid[]) WITH ORDINALITY AS t(oid, ord)),
             u AS (INSERT INTO users (organization_id, email, display_name, role)
                   SELECT $1, 'bench' || (ord + $4) || '@contoso.com', 'Bench user ' || (ord + $4), 'employee' FROM src
                   RETURNING id, email)
             INSERT INTO microsoft_identities (user_id, tenant_id, object_id, user_principal_name)
             SELECT u.id, $2, src.oid, u.email FROM u JOIN src ON u.email = 'bench' || (src.ord + $4) || '@contoso.com'`,
            [command.organizationId, tenantId, chunk, offset],
          );
        }
        // As autovacuum would soon after such a load: give the planner statistics.
        await client.query('ANALYZE users; ANALYZE microsoft_identities');
      } finally {
        await client.end();
      }
      return { linked: ids.length };
    }
    case 'disable': {
      // Users not already disabled or deleted, spread over the tenant.
      const step = Math.floor(ids.length / command.count);
      let changed = 0;
      for (let i = 1; changed < command.count && i < ids.length; i += step) {
        const user = emulator.store.findUser(ids[i]);
        if (user && user.accountEnabled && !user.deletedAt) {
          emulator.store.updateUser(ids[i], { accountEnabled: false });
          changed++;
        }
      }
      return { disabled: changed };
    }
    case 'settings':
      emulator.store.updateGraphSettings({ latencyMs: command.latencyMs });
      emulator.store.resetGraphRequestCount();
      return {};
    case 'stats':
      return { graphRequests: emulator.store.graphRequestCount() };
  }
}

process.on('message', (message: { id: number; command: Command }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
