import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Debian's Chromium, when the machine has it (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = () => existsSync(CHROMIUM);

type Message = { id?: number; method?: string; params?: Record<string, unknown>; sessionId?: string } & {
  result?: Record<string, unknown>;
  error?: { message: string };
};

/**
 * Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: NUL-separated
 * JSON on file descriptors 3 and 4), so no driver package is needed. One page; `evaluate` runs an expression
 * in it, `events` keeps every protocol event of the page for the test to read.
 */
export class HeadlessPage {
  readonly events: Message[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(m: Message): void; reject(e: Error): void }>();
  private sessionId = '';
  private buffer = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const output = child.stdio[4] as Readable;
    output.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end)) as Message;
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined && this.pending.has(message.id)) {
          const waiter = this.pending.get(message.id)!;
          this.pending.delete(message.id);
          if (message.error) waiter.reject(new Error(message.error.message));
          else waiter.resolve(message);
        } else if (message.method) this.events.push(message);
      }
    });
  }

  static async open(): Promise<HeadlessPage> {
    const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const page = new HeadlessPage(child, profile);
    const targets = await page.send('Target.getTargets');
    const infos = (targets.result!.targetInfos as { targetId: string; type: string }[]).filter(
      (t) => t.type === 'page',
    );
    const targetId =
      infos[0]?.targetId ??
      ((await page.send('Target.createTarget', { url: 'about:blank' })).result!.targetId as string);
    const attached = await page.send('Target.attachToTarget', { targetId, flatten: true });
    page.sessionId = attached.result!.sessionId as string;
    await page.send('Page.enable', {}, true);
    await page.send('Network.enable', {}, true);
    await page.send('Runtime.enable', {}, true);
    return page;
  }

  send(method: string, params: Record<string, unknown> = {}, inPage = false): Promise<Message> {
    const id = this.nextId++;
    const message = { id, method, params, ...(inPage ? { sessionId: this.sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    });
  }

  async navigate(url: string): Promise<void> {
    await this.send('Page.navigate', { url }, true);
  }

  /** The value of a JavaScript expression in the page (awaited if it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const answer = await this.send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      true,
    );
    const result = answer.result as { result: { value: T }; exceptionDetails?: { text: string } };
    if (result.exceptionDetails) throw new Error(`in the page: ${JSON.stringify(result.exceptionDetails)}`);
    return result.result.value;
  }

  /** Polls an expression until it is truthy: the page renders in its own time. */
  async waitFor(expression: string, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await this.evaluate<boolean>(`Boolean(${expression})`))) {
      if (Date.now() > deadline) {
        const seen = await this.evaluate<string>(
          `location.href + ' ' + document.body?.innerText.slice(0, 300)`,
        );
        throw new Error(`the page never showed ${what} (it shows: ${seen})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.send('Browser.close').catch(() => undefined);
    const forced = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(forced);
    rmSync(this.profile, { recursive: true, force: true });
  }
}
