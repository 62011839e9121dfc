import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildIsCurrent } from '../../src/cli/build-is-current.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Built {
  dir: string;
  /** Built here for this test file: remove it afterwards. */
  temporary: boolean;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

async function compile(project: string, name: string): Promise<Built> {
  // Under node_modules/.cache, where Node still finds the dependencies.
  const dir = join(ROOT, 'node_modules', '.cache', `${name}-${process.pid}`);
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project, '--noCheck', '--outDir', dir],
    { cwd: ROOT },
  );
  return { dir, temporary: true };
}

/**
 * The service as an operator runs it: compiled, for its own processes. dist/ when it is current (CI builds
 * before testing); else a type-check-free build of its own (`<dir>/src/main.js`, `<dir>/src/cli/cli.js`).
 */
export async function builtService(name: string): Promise<Built> {
  if (buildIsCurrent(ROOT)) return { dir: join(ROOT, 'dist'), temporary: false };
  return compile('tsconfig.build.json', `${name}-service`);
}

/** The emulator package's build (`<dir>/start-with-emulator.js`, the launcher behind `npm start`), likewise. */
export async function builtEmulator(name: string): Promise<Built> {
  const pkg = join(ROOT, 'packages', 'entra-emulator');
  const dist = join(pkg, 'dist');
  try {
    const built = statSync(join(dist, 'start-with-emulator.js')).mtimeMs;
    const inputs = ['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json'].map((p) => join(pkg, p));
    if (inputs.every((p) => newestMtime(p) <= built)) return { dir: dist, temporary: false };
  } catch {
    // not built yet
  }
  return compile(join(pkg, 'tsconfig.build.json'), `${name}-emulator`);
}
