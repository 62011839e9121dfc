import 'reflect-metadata';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { loadConfig } from '../config/config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../database/embedded-postgres.js';
import { runMigrations } from '../database/migrate.js';
import { TokenVault } from '../integrations/token-vault.service.js';
import { OrganizationsService } from '../organizations/organizations.service.js';

const USAGE = `Operator commands (no HTTP surface):
  npm run cli -- orgs:list
  npm run cli -- orgs:set-plan <organizationId> <free|team|enterprise>
  npm run cli -- orgs:set-seats <organizationId> <seatLimit>
  npm run cli -- keys:rotate        re-encrypt every stored token under the first key of TOKEN_ENCRYPTION_KEYS`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig({
    ...process.env,
    ENTRA_CLIENT_ID: process.env.ENTRA_CLIENT_ID || 'cli',
    ENTRA_CLIENT_SECRET: process.env.ENTRA_CLIENT_SECRET || 'cli',
    // A one-off command must not pick up queued syncs.
    SYNC_WORKER_ENABLED: 'false',
  });
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dir: join(config.dataDir, 'postgres') });
    url = embedded.url;
  }
  await runMigrations(url);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, url), {
    logger: ['error'],
  });
  try {
    const organizations = app.get(OrganizationsService);
    switch (command) {
      case 'orgs:list': {
        const rows = await organizations.listAll();
        console.table(
          rows.map((o) => ({
            id: o.id,
            name: o.name,
            plan: o.plan,
            seatLimit: o.seatLimit,
            createdAt: o.createdAt.toISOString(),
          })),
        );
        return 0;
      }
      case 'orgs:set-plan': {
        const [id, plan] = args;
        const saved = await organizations.updateSubscription(id ?? '', { plan }, SYSTEM_ACTOR);
        console.log(`${saved.name}: plan is now ${saved.plan}`);
        return 0;
      }
      case 'orgs:set-seats': {
        const [id, seats] = args;
        const saved = await organizations.updateSubscription(
          id ?? '',
          { seatLimit: Number(seats) },
          SYSTEM_ACTOR,
        );
        console.log(`${saved.name}: seat limit is now ${saved.seatLimit}`);
        return 0;
      }
      case 'keys:rotate': {
        const { reencrypted, total } = await app.get(TokenVault).reencryptTokens();
        console.log(
          `re-encrypted the tokens of ${reencrypted} of ${total} connection(s) under the current key`,
        );
        return 0;
      }
      default:
        console.error(`unknown command ${command}\n${USAGE}`);
        return 2;
    }
  } finally {
    await app.close();
    await embedded?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof DomainError ? `${error.code}: ${error.message}` : error);
    process.exit(1);
  },
);
