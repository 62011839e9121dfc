import { randomUUID } from 'node:crypto';
import { type INestApplication, Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { runWithRequestContext } from './common/request-context.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Everything around the modules: security headers, cookies, validation, request ids, access log, docs. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.use(
    helmet({
      // Swagger UI ships inline scripts and styles; everything else keeps helmet's strict defaults.
      contentSecurityPolicy: {
        directives: { 'script-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'] },
      },
    }),
  );
  app.use(cookieParser());
  // The SPA may live on another origin: let it call the API with its session cookie, and nobody else.
  const uiOrigin = new URL(config.appUiUrl).origin;
  if (uiOrigin !== new URL(config.appBaseUrl).origin) app.enableCors({ origin: uiOrigin, credentials: true });
  app.use(requestContext());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
    swaggerOptions: { withCredentials: true, persistAuthorization: true },
  });
}

function requestContext() {
  const logger = new Logger('HTTP');
  return (request: Request, response: Response, next: NextFunction) => {
    const given = request.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    response.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      // The path only: query strings carry authorization codes and state on the callback route.
      logger.log({
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

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Entra ID directory integration API')
    .setDescription(
      'Connects an organization to its Microsoft Entra ID tenant and makes the directory the source of truth ' +
        'for access. Errors are `application/problem+json` (RFC 9457) with a stable `code`.\n\n' +
        'Sign in by opening `/auth/microsoft/login` in this browser; Swagger UI then sends the session cookie.',
    )
    .setVersion('1.0.0')
    .addServer('/', 'This API, on the origin that serves this document')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'A session token of this API.' },
      'bearer',
    )
    .addCookieAuth('session', { type: 'apiKey', in: 'cookie', name: 'session' }, 'session')
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
  });
}
