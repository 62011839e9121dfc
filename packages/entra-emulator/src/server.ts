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
import { KeyRing } from './keys.js';
import { EmulatorStore } from './store.js';
import { tokenRouter } from './token.js';
import type { EmulatorClient, EmulatorFixture } from './types.js';

export interface StartOptions {
  /** 0 or undefined: a random free port. */
  port?: number;
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
  /** The new key signs from now on; old keys stay published unless `dropOld`. */
  rotateKeys(options?: { dropOld?: boolean }): void;
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

export async function startEntraEmulator(opts: StartOptions): Promise<EntraEmulator> {
  const fixture = opts.fixture ?? demoFixture();
  const ctx: EmulatorContext = {
    baseUrl: '',
    store: new EmulatorStore(fixture, opts.clients),
    keys: new KeyRing(),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (opts.logger) app.use(requestLogger(opts.logger));
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  ctx.baseUrl = `https://127.0.0.1:${port}`;

  return {
    url: ctx.baseUrl,
    authorityHost: ctx.baseUrl,
    graphBaseUrl: ctx.baseUrl,
    store: ctx.store,
    rotateKeys: (options) => void ctx.keys.rotate(options),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive clients (MSAL, fetch) and injected timeouts would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
