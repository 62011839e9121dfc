import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EmulatorStoreState } from './store.js';

/**
 * The emulator's state on disk, so that a restart of `npm start` keeps what the service relies on: the port
 * (the service's ENTRA_AUTHORITY_HOST and the stored delta links name it), the signing keys (ID and access
 * tokens issued before still verify), and the store (tenants, users and their change log, consent, refresh
 * tokens). One JSON file, mode 0600 — it holds private keys and refresh tokens — replaced atomically, so a
 * crash mid-write leaves the previous version.
 */
export interface SavedEmulator {
  version: typeof FORMAT_VERSION;
  port: number;
  /** PKCS#8 PEM signing keys, oldest first. */
  keys: string[];
  /** Base64 key of the MAC on paging and delta tokens (`graph-query.ts`). */
  pagingTokenKey: string;
  store: EmulatorStoreState;
}

const FORMAT_VERSION = 1;

/** The fields that hold dates in the store's objects (users, tombstones, groups, grants). */
const DATE_FIELDS = new Set(['deletedAt', 'purgedAt', 'grantedAt']);

function revive(key: string, value: unknown): unknown {
  return DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value;
}

function isSaved(value: unknown): value is SavedEmulator {
  const v = value as Partial<SavedEmulator> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.version === FORMAT_VERSION &&
    Number.isInteger(v.port) &&
    Array.isArray(v.keys) &&
    typeof v.pagingTokenKey === 'string' &&
    typeof v.store === 'object' &&
    v.store !== null
  );
}

/**
 * The saved state, or undefined when there is none. A file that cannot be used (damaged, or written by an
 * incompatible version) is moved aside, said so in one line, and the emulator starts from its fixture.
 */
export async function loadSavedEmulator(
  file: string,
  log: (line: string) => void,
): Promise<SavedEmulator | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, revive);
  } catch {
    parsed = undefined;
  }
  if (isSaved(parsed)) return parsed;
  const aside = `${file}.unreadable-${Date.now()}`;
  await rename(file, aside);
  log(
    `the saved emulator state in ${file} is damaged or from another version: moved to ${aside}; starting from the demo fixture (connect the tenant again)`,
  );
  return undefined;
}

async function writeAtomically(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(tmp, file);
}

/**
 * Writes the state after changes, a few at a time: `changed()` asks for a write soon, and writes never overlap
 * (a change during a write is picked up by the next one). `flush()` writes now and waits.
 */
export class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => SavedEmulator,
    private readonly log: (line: string) => void,
    private readonly delayMs = 50,
  ) {}

  changed(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((error: unknown) =>
        this.log(`could not save the emulator state to ${this.file}: ${String(error)}`),
      );
    }, this.delayMs).unref();
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = true;
    for (;;) {
      // Another caller's write may be on the way: wait for it, then write what changed since.
      if (this.writing) {
        await this.writing;
        continue;
      }
      if (!this.dirty) return;
      this.dirty = false;
      // Serialised at once: the snapshot shares the live objects.
      const write = writeAtomically(this.file, JSON.stringify(this.snapshot()));
      const settle = () => {
        this.writing = undefined;
      };
      this.writing = write.then(settle, settle);
      await write;
    }
  }
}
