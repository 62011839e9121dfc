import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { buildOpenApiDocument } from '../app.setup.js';
import { loadConfig } from '../config/config.js';

/**
 * Writes openapi/openapi.json from the controllers and DTOs, without a database: Nest's preview mode
 * resolves the module graph but instantiates no provider. Keys are sorted so the committed file diffs cleanly.
 */
const OUTPUT = resolve(import.meta.dirname, '../../../openapi/openapi.json');

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

async function main(): Promise<void> {
  // A fixed configuration: the document must not depend on the environment it is generated in.
  const config = loadConfig({
    NODE_ENV: 'development',
    ENTRA_CLIENT_ID: 'openapi',
    ENTRA_CLIENT_SECRET: 'openapi',
  });
  const app = await NestFactory.create(AppModule.forRoot(config, 'postgresql://openapi@127.0.0.1/openapi'), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  const document = buildOpenApiDocument(app);
  await mkdir(dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, `${JSON.stringify(sortKeys(document), null, 2)}\n`);
  await app.close();
  console.log(`wrote ${OUTPUT} (${Object.keys(document.paths).length} paths)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
