import 'reflect-metadata';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import { PLANS } from '../common/access.js';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/uuid.js';
import { type AppConfig, ConfigError, loadConfig } from '../config/config.js';
import {
  connectOrStartEmbedded,
  EmbeddedDatabaseError,
  type EmbeddedDatabase,
} from '../database/embedded-postgres.js';
import { runMigrations } from '../app.migrate.js';
import { TokenVault } from '../integrations/token-vault.service.js';
import { OrganizationsService } from '../organizations/organizations.service.js';

const USAGE = `Operator commands (no HTTP surface):
  npm run cli -- orgs:list
  npm run cli -- orgs:set-plan <organizationId> <free|team|enterprise>
  npm run cli -- orgs:set-seats <organizationId> <seatLimit>
  npm run cli -- keys:rotate        re-encrypt every stored token under the first key of TOKEN_ENCRYPTION_KEYS`;

const COMMANDS = ['orgs:list', 'orgs:set-plan', 'orgs:set-seats', 'keys:rotate'];

/** A mistake in the command line: one line on stderr, then the exit code 2 (usage). */
class UsageError extends Error {}

/** Checks the arguments before any database is touched, so a typo is answered at once and in plain words. */
function checkArguments(command: string, args: string[]): void {
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command ${command}\n${USAGE}`);
  const [id, value] = args;
  if (command === 'orgs:set-plan' || command === 'orgs:set-seats') {
    const what = command === 'orgs:set-plan' ? `<${PLANS.join('|')}>` : '<seatLimit>';
    if (id === undefined || value === undefined)
      throw new UsageError(`usage: npm run cli -- ${command} <organizationId> ${what}`);
    if (!isUuid(id)) throw new UsageError(`${id} is not an organization id (a UUID, as orgs:list shows)`);
  }
  if (command === 'orgs:set-plan' && !(PLANS as readonly string[]).includes(value)) {
    throw new UsageError(`unknown plan ${value}: the plans are ${PLANS.join(', ')}`);
  }
  if (command === 'orgs:set-seats' && !/^[1-9][0-9]{0,8}$/.test(value)) {
    throw new UsageError(`${value} is not a seat limit: give a whole number of at least 1`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  checkArguments(command, args);
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
    // The running service's server when there is one (left running); else one for this command alone.
    embedded = await connectOrStartEmbedded({ dir: join(config.dataDir, 'postgres'), owner: 'npm run cli' });
    url = embedded.url;
  }
  try {
    return await run(command, args, config, url);
  } finally {
    await embedded?.stop();
  }
}

async function run(command: string, args: string[], config: AppConfig, url: string): Promise<number> {
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
        throw new UsageError(`unknown command ${command}\n${USAGE}`);
    }
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(describe(error));
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);

/** What went wrong in operator terms: never a stack trace or a SQL statement. */
function describe(error: unknown): string {
  if (error instanceof DomainError) {
    const details = (error.errors ?? []).map((e) => `\n  ${e.field}: ${e.message}`).join('');
    return `${error.code}: ${error.message}${details}`;
  }
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof EmbeddedDatabaseError) {
    return error.message;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
