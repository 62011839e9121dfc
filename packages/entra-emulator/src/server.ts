import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { authorizeRouter } from './authorize.js';
import type { EmulatorContext } from './context.js';
import { controlRouter } from './control.js';
import { discoveryRouter } from './discovery.js';
import { sendGraphError, sendTokenError, AadError } from './errors.js';
import { demoFixture } from './fixture.js';
import { faultCode } from './graph-common.js';
import { graphMeter, graphRouter } from './graph.js';
import { adoptPagingTokenKey, pagingTokenKey } from './graph-query.js';
import { KeyRing } from './keys.js';
import { loadSavedEmulator, StateFile } from './persistence.js';
import { ProvisioningService } from './provisioning-service.js';
import { EmulatorStore } from './store.js';
import { tokenRouter } from './token.js';
import type { EmulatorClient, EmulatorFixture } from './types.js';

export interface StartOptions {
  /** 0 or undefined: the saved port (see `stateFile`), else a random free port. */
  port?: number;
  /**
   * Where the state lives across restarts (a JSON file, mode 0600): loaded at start when it exists, written
   * after each change outside Graph and on close. Without it, everything lives in memory.
   */
  stateFile?: string;
  /** PEM strings. */
  tls: { cert: string; key: string };
  /** Default: the demo fixture. */
  fixture?: EmulatorFixture;
  /** App registrations; default: the fixture's clients. */
  clients?: EmulatorClient[];
  logger?: (line: string) => void;
}

export interface EntraEmulator {
  /** https://127.0.0.1:PORT — the authority host and the Graph host. */
  url: string;
  authorityHost: string;
  /** Graph lives under /v1.0 of the same server. */
  graphBaseUrl: string;
  store: EmulatorStore;
  /** The simulated Entra provisioning service (SCIM client) over the store's application assignments. */
  provisioning: ProvisioningService;
  /** The new key signs from now on; old keys stay published unless `dropOld`. */
  rotateKeys(options?: { dropOld?: boolean }): void;
  /** Writes the state file now (changes made through `store` directly are saved on close otherwise). */
  save(): Promise<void>;
  close(): Promise<void>;
}

/** Answers injected faults before the real handlers; Graph paths get Graph's error envelope. */
function faultInjector(ctx: EmulatorContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const rule = ctx.store.takeFault(req.method, req.path);
    if (!rule) return next();
    if (rule.kind === 'timeout') return; // never answers; close() tears the socket down
    if (rule.kind === 'latency') {
      await new Promise((resolve) => setTimeout(resolve, rule.delayMs ?? 1000));
      return next();
    }
    const status = rule.status ?? 500;
    if (rule.retryAfter !== undefined) res.set('Retry-After', String(rule.retryAfter));
    if (req.path.startsWith('/v1.0/')) {
      sendGraphError(res, status, faultCode(status), 'Injected fault.');
    } else {
      const error = status === 503 || status === 429 ? 'temporarily_unavailable' : 'server_error';
      sendTokenError(
        res,
        new AadError(error, 90033, 'A transient error has occurred. Please try again.', status),
        {
          baseUrl: ctx.baseUrl,
          correlationId: crypto.randomUUID(),
        },
      );
    }
  };
}

/** One line per request; the path only, since query strings carry codes and hints. */
function requestLogger(logger: (line: string) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    res.on('finish', () => {
      const path = req.originalUrl.split('?')[0];
      logger(`${req.method} ${path} ${res.statusCode} ${Math.round(performance.now() - started)}ms`);
    });
    next();
  };
}

/** The port is taken: one line an operator can act on. */
export class EmulatorPortInUseError extends Error {
  constructor(port: number, saved: boolean, stateFile: string | undefined) {
    super(
      saved
        ? `the Entra emulator's port 127.0.0.1:${port}, kept in ${stateFile} so that a restart keeps the service's ` +
            `URLs valid, is in use: is another npm start running on this DATA_DIR? Stop it, or set EMULATOR_PORT to a free port`
        : `the Entra emulator cannot listen on 127.0.0.1:${port}: the port is in use; choose another EMULATOR_PORT`,
    );
    this.name = 'EmulatorPortInUseError';
  }
}

async function listen(server: ReturnType<typeof createServer>, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startEntraEmulator(opts: StartOptions): Promise<EntraEmulator> {
  const fixture = opts.fixture ?? demoFixture();
  const log = opts.logger ?? ((line: string) => console.warn(`[entra-emulator] ${line}`));
  const saved = opts.stateFile ? await loadSavedEmulator(opts.stateFile, log) : undefined;
  const store = new EmulatorStore(fixture, opts.clients);
  if (saved) {
    store.restoreState(saved.store);
    adoptPagingTokenKey(Buffer.from(saved.pagingTokenKey, 'base64'));
  }
  const provisioning = new ProvisioningService(store);
  const ctx: EmulatorContext = { baseUrl: '', store, keys: new KeyRing(saved?.keys), provisioning };
  let stateFile: StateFile | undefined;

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (opts.logger) app.use(requestLogger(opts.logger));
  // Graph is read-only here; every other route (authorize, token, control) may change the state.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (stateFile && !req.path.startsWith('/v1.0/')) res.on('finish', () => stateFile?.changed());
    next();
  });
  // Counted and delayed before faults, so a faulted request still costs the client a round trip.
  app.use('/v1.0', graphMeter(ctx));
  app.use(faultInjector(ctx));
  app.use('/_emulator', controlRouter(ctx));
  app.use('/v1.0', graphRouter(ctx));
  app.use(express.urlencoded({ extended: false, limit: '1mb' }));
  app.use(discoveryRouter(ctx));
  app.use(authorizeRouter(ctx));
  app.use(tokenRouter(ctx));
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not found');
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    opts.logger?.(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (!res.headersSent) res.status(500).type('text/plain').send('Internal emulator error');
  });

  const server = createServer({ cert: opts.tls.cert, key: opts.tls.key }, app);
  const wanted = opts.port || saved?.port || 0;
  try {
    await listen(server, wanted);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new EmulatorPortInUseError(wanted, !opts.port, opts.stateFile);
  }
  const { port } = server.address() as AddressInfo;
  ctx.baseUrl = `https://127.0.0.1:${port}`;
  if (opts.stateFile) {
    stateFile = new StateFile(
      opts.stateFile,
      () => ({
        version: 1,
        port,
        keys: ctx.keys.exportKeys(),
        pagingTokenKey: pagingTokenKey().toString('base64'),
        store: store.exportState(),
      }),
      log,
    );
    await stateFile.flush(); // the port is recorded before anybody is told the URL
  }

  return {
    url: ctx.baseUrl,
    authorityHost: ctx.baseUrl,
    graphBaseUrl: ctx.baseUrl,
    store: ctx.store,
    provisioning,
    rotateKeys: (options) => {
      ctx.keys.rotate(options);
      stateFile?.changed();
    },
    save: async () => stateFile?.flush(),
    close: async () => {
      provisioning.stopAll();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive clients (MSAL, fetch) and injected timeouts would otherwise hold close() open.
        server.closeAllConnections();
      });
      await stateFile?.flush();
    },
  };
}
