import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/config.js';
import { createDataSource } from '../app.data-source.js';
import {
  connectOrStartEmbedded,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '../database/embedded-postgres.js';
import { runMigrations, withMigrationLock } from '../app.migrate.js';

/*
 * npm run migration:run | migration:revert | migration:generate -- <Name> | migration:check
 * Uses DATABASE_URL, or else the embedded PostgreSQL in DATA_DIR (`check` and `generate` use a throw-away
 * embedded cluster when DATABASE_URL is unset, so they compare the entities with the migrations alone).
 */
const USAGE = 'usage: migration-cli run | revert | generate <Name> | check';
const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../../migrations');

async function database(scratch: boolean): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  const config = loadConfig();
  if (config.databaseUrl) return { url: config.databaseUrl };
  // A running service's own server is used as it is (never stopped); a scratch cluster is this command's alone.
  const embedded = scratch
    ? await startEmbeddedPostgres({
        dir: join(config.dataDir, `postgres-scratch-${process.pid}`),
        ephemeral: true,
        owner: 'a migration check',
        log: console.error,
      })
    : await connectOrStartEmbedded({
        dir: join(config.dataDir, 'postgres'),
        owner: 'a migration command',
        log: console.error,
      });
  return { url: embedded.url, embedded };
}

/** The SQL TypeORM would run to make the database match the entities, as migration up/down statements. */
async function pendingSchemaChanges(url: string): Promise<{ up: string[]; down: string[] }> {
  const dataSource = await createDataSource(url).initialize();
  try {
    const sql = await dataSource.driver.createSchemaBuilder().log();
    const render = (q: { query: string; parameters?: unknown[] }) =>
      `await queryRunner.query(${JSON.stringify(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`;
    return { up: sql.upQueries.map(render), down: sql.downQueries.reverse().map(render) };
  } finally {
    await dataSource.destroy();
  }
}

async function generate(name: string, url: string): Promise<void> {
  if (!/^[A-Z][A-Za-z0-9]+$/.test(name))
    throw new Error('Give the migration a PascalCase name: migration:generate -- AddThing');
  await runMigrations(url);
  const { up, down } = await pendingSchemaChanges(url);
  if (up.length === 0) {
    console.log('No changes: the migrations already match the entities.');
    return;
  }
  const timestamp = Date.now();
  const className = `${name}${timestamp}`;
  const file = `${timestamp}-${name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
  const body = `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  public async up(queryRunner: QueryRunner): Promise<void> {
    ${up.join('\n    ')}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    ${down.join('\n    ')}
  }
}
`;
  await writeFile(join(MIGRATIONS_DIR, `${file}.ts`), body);
  const indexPath = join(MIGRATIONS_DIR, 'index.ts');
  const index = await readFile(indexPath, 'utf8');
  const lines = index.split('\n');
  const lastImport = lines.findLastIndex((line) => line.startsWith('import '));
  lines.splice(lastImport + 1, 0, `import { ${className} } from './${file}.js';`);
  // Append to the array whether prettier laid it out on one line or several.
  const updated = lines.join('\n').replace(/,?\s*\];\s*$/, `,\n  ${className},\n];\n`);
  await writeFile(indexPath, updated);
  console.log(
    `Wrote migrations/${file}.ts and registered it in migrations/index.ts. Review it, then run npm run lint -- --fix.`,
  );
}

async function main(): Promise<number> {
  const [command, name] = process.argv.slice(2);
  // A typo is answered before any database starts.
  if (!['run', 'revert', 'generate', 'check'].includes(command ?? '')) {
    console.error(`unknown command ${command ?? '(none)'}: ${USAGE}`);
    return 2;
  }
  if (command === 'generate' && !/^[A-Z][A-Za-z0-9]+$/.test(name ?? '')) {
    console.error('Give the migration a PascalCase name: migration:generate -- AddThing');
    return 2;
  }
  const scratch = command === 'generate' || command === 'check';
  const { url, embedded } = await database(scratch);
  try {
    switch (command) {
      case 'run': {
        const applied = await runMigrations(url);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
        return 0;
      }
      case 'revert': {
        const dataSource = await createDataSource(url).initialize();
        try {
          await withMigrationLock(dataSource, () => dataSource.undoLastMigration({ transaction: 'each' }));
        } finally {
          await dataSource.destroy();
        }
        console.log('Reverted the last migration.');
        return 0;
      }
      case 'generate':
        await generate(name ?? '', url);
        return 0;
      case 'check': {
        await runMigrations(url);
        const { up } = await pendingSchemaChanges(url);
        if (up.length === 0) {
          console.log('Migrations match the entities.');
          return 0;
        }
        console.error(
          `The entities and the migrations differ; run npm run migration:generate. Pending:\n${up.join('\n')}`,
        );
        return 1;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
