import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import {
  acceptedRequestId,
  canonicalHost,
  onceAtBoot,
  cookieOriginCheck,
  inSequence,
  mountedAt,
  noStoreForAuthenticated,
  refuseFormBodies,
} from './common/http-edge.js';
import { logAccess } from './common/app-logger.js';
import { useDirectJsonReplies } from './common/json-reply.js';
import { runWithRequestContext } from './common/request-context.js';
import { createValidationPipe } from './common/validation.js';
import { COMMON_ERRORS, type ErrorDefinition, registeredErrors } from './common/domain-error.js';
import { ProblemDocumentDto } from './common/problem.dto.js';
import type { AppConfig } from './config/config.js';
import { EVENT_DATA_DTOS } from './app.event-data.js';
import { SWAGGER_SESSION_SCRIPT, SWAGGER_SESSION_SCRIPT_PATH } from './common/swagger-session.js';
import { invitationChoiceCookieName, sessionCookieName } from './sessions/session-cookie.js';

/**
 * Node's own limits on slow clients: headers or a body that never complete are answered 408 and the socket
 * closed. Call before `listen`: Node reads the checking interval (default 30 s, which would stretch every
 * limit by that much) when the server starts listening.
 */
export function applyServerTimeouts(server: Server, config: AppConfig): void {
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    1_000,
    Math.ceil(config.http.headersTimeoutMs / 2),
  );
  server.requestTimeout = config.http.requestTimeoutMs;
  server.headersTimeout = config.http.headersTimeoutMs;
  server.keepAliveTimeout = config.http.keepAliveTimeoutMs;
}

/** Everything around the modules: security headers, cookies, validation, request ids, access log, docs. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // Express hashes every body it sends for a weak ETag; the API's answers are `no-store`, so nothing ever
  // revalidates one, and the hash was a measurable part of each users page. Static files keep theirs.
  app.set('etag', false);
  // Over plain http (local development) HSTS and upgrade-insecure-requests would only break the page.
  const https = new URL(config.appBaseUrl).protocol === 'https:';
  // One Express layer for the whole edge: each `app.use` is a router layer that every request walks through
  // (path match, `next` bookkeeping), and these ran on every request of the API.
  app.use(
    inSequence(
      onceAtBoot(
        helmet({
          // Swagger UI as served by @nestjs/swagger loads its scripts (init included) from files: no inline
          // script is allowed anywhere. Its inline styles stay allowed by helmet's default style-src.
          contentSecurityPolicy: {
            directives: {
              'script-src': ["'self'"],
              'img-src': ["'self'", 'data:'],
              'upgrade-insecure-requests': https ? [] : null,
            },
          },
          strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
        }),
      ),
      cookieParser(),
      // Before the body parsers (Nest adds them at init), so a refused body is never read.
      requestContext(),
      noStoreForAuthenticated(sessionCookieName(config)),
      cookieOriginCheck(config.trustedOrigins, [
        sessionCookieName(config),
        invitationChoiceCookieName(config),
      ]),
      mountedAt('/api', refuseFormBodies()),
      mountedAt('/auth/microsoft/login', canonicalHost(config.appBaseUrl)),
    ),
  );
  // The SPA may live on another origin: let it call the API with its session cookie, and nobody else.
  const uiOrigin = new URL(config.appUiUrl).origin;
  if (uiOrigin !== new URL(config.appBaseUrl).origin) app.enableCors({ origin: uiOrigin, credentials: true });
  app.useGlobalPipes(createValidationPipe());
  useDirectJsonReplies(app);
  // No enableShutdownHooks(): main.ts owns SIGINT/SIGTERM (drain, close, stop the embedded database, exit 0).
  // Nest's hook re-raises the signal once the app is closed, which killed the process before the embedded
  // PostgreSQL was stopped and its owner record released, and made every Ctrl-C of `npm start` an exit 1.
  app.use(SWAGGER_SESSION_SCRIPT_PATH, (request: Request, response: Response, next: NextFunction) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    response.type('text/javascript; charset=utf-8').setHeader('Cache-Control', 'no-cache');
    response.send(SWAGGER_SESSION_SCRIPT);
  });
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
    customJs: SWAGGER_SESSION_SCRIPT_PATH,
    // A pasted Bearer token must not outlive the tab in localStorage.
    swaggerOptions: { withCredentials: true, persistAuthorization: false },
  });
}

function requestContext() {
  return (request: Request, response: Response, next: NextFunction) => {
    const requestId = acceptedRequestId(request.headers['x-request-id']);
    response.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      // The path only: query strings carry authorization codes and state on the callback route.
      logAccess({
        message: 'request',
        requestId,
        method: request.method,
        path: request.path,
        status: response.statusCode,
        durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n),
      });
    });
    runWithRequestContext({ requestId }, next);
  };
}

/** Problem codes any route can answer with, documented once in the API description rather than per operation. */
export const GLOBAL_PROBLEM_CODES: ErrorDefinition[] = [
  COMMON_ERRORS.BAD_REQUEST,
  COMMON_ERRORS.MALFORMED_JSON,
  COMMON_ERRORS.FORBIDDEN,
  COMMON_ERRORS.ORIGIN_NOT_ALLOWED,
  COMMON_ERRORS.API_KEY_NOT_ACCEPTED,
  COMMON_ERRORS.NOT_FOUND,
  COMMON_ERRORS.METHOD_NOT_ALLOWED,
  COMMON_ERRORS.PAYLOAD_TOO_LARGE,
  COMMON_ERRORS.UNSUPPORTED_MEDIA_TYPE,
  COMMON_ERRORS.DATABASE_UNAVAILABLE,
  COMMON_ERRORS.INTERNAL_ERROR,
];

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const globalCodes = GLOBAL_PROBLEM_CODES.map((d) => `- \`${d.code}\`: ${d.description}`).join('\n');
  const config = new DocumentBuilder()
    .setTitle('Entra ID directory integration API')
    .setDescription(
      'Connects an organization to its Microsoft Entra ID tenant and makes the directory the source of truth ' +
        'for access. Errors are `application/problem+json` (RFC 9457) with a stable `code`: each operation ' +
        'lists the codes it answers with, and any route may also answer with:\n' +
        globalCodes +
        '\n\nSign in by opening [/auth/microsoft/login](/auth/microsoft/login) in this browser; Swagger UI then ' +
        'sends the session cookie with every call, and shows it: the locks close and the curl snippets carry ' +
        '`Cookie: session=…` (paste the cookie’s value, HttpOnly, from the browser’s developer tools, or send the ' +
        'same token as `Authorization: Bearer`).\n\n' +
        'A write (POST, PATCH, PUT, DELETE) authenticated by the session cookie (or the organization-choice cookie ' +
        'of a sign-in) must come from the application’s ' +
        'own origin (`Origin` or `Sec-Fetch-Site: same-origin`), else 403 `ORIGIN_NOT_ALLOWED`; Bearer requests ' +
        'are exempt. Request bodies are JSON: form, multipart and text bodies get 415 `UNSUPPORTED_MEDIA_TYPE`.',
    )
    .setVersion('1.0.0')
    .addServer('/', 'This API, on the origin that serves this document')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'A session token of this API.' },
      'bearer',
    )
    .addCookieAuth(
      'session',
      {
        type: 'apiKey',
        in: 'cookie',
        name: 'session',
        description:
          'The HttpOnly session cookie set by the Microsoft sign-in (`__Host-session` when the service runs on ' +
          'https). The browser sends it by itself; its value also works as a Bearer token.',
      },
      'session',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'edk_…',
        description:
          'An organization’s API key (`edk_…`, made by an Owner or Admin with `POST /api/v1/api-keys`). ' +
          'An operation accepts one only if it lists `api_key` among its security requirements, and only ' +
          'with every scope in its `x-required-scopes`; otherwise 403 `INSUFFICIENT_SCOPE` or ' +
          '`API_KEY_NOT_ACCEPTED`. Each key has its own rate limit (`RateLimit` headers; 429 with ' +
          '`Retry-After`). Paste a key into Authorize to try an integrator’s view.',
      },
      'api_key',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
    extraModels: [ProblemDocumentDto, ...EVENT_DATA_DTOS],
  });
  // The closed set of codes a problem can carry: every module's catalog.
  const problem = document.components?.schemas?.ProblemDocumentDto as
    { properties?: Record<string, { enum?: string[] }> } | undefined;
  const code = problem?.properties?.code;
  if (code)
    code.enum = registeredErrors()
      .map((d) => d.code)
      .sort();
  return document;
}
