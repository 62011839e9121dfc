import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/*
 * `npm run cli` runs this first, from dist/: exit 0 when dist/ is current, so the CLI runs without a rebuild
 * (a rebuild wipes dist/ under a running `npm start`); exit 1 sends `precli` to `npm run build:service`.
 * A missing dist/ makes node itself fail, with the same effect.
 */

/** Marks a finished `build:service`; a build that failed half-way leaves none. */
export const BUILD_STAMP = join('dist', '.build-complete');

/** What the service build reads: a newer file or folder (an added, changed or deleted file) means stale. */
const INPUTS = [
  'src',
  'migrations',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];

function newestMtime(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when the last complete build of `root` is newer than everything it was built from. */
export function buildIsCurrent(root: string): boolean {
  let built: number;
  try {
    built = statSync(join(root, BUILD_STAMP)).mtimeMs;
  } catch {
    return false;
  }
  return INPUTS.every((input) => newestMtime(join(root, input)) <= built);
}

const ROOT = resolve(import.meta.dirname, '../../..');
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exit(buildIsCurrent(ROOT) ? 0 : 1);
}
