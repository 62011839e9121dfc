import type { Response } from 'express';
import { graphErrorBody } from './graph-common.js';

/** Raised for input the directory would refuse; the control API turns it into HTTP 400. */
export class EmulatorInputError extends Error {}

/** An identity-platform error: `error` is what clients branch on, `code` the AADSTS diagnostic. */
export class AadError extends Error {
  constructor(
    readonly error: string,
    readonly code: number,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }

  get description(): string {
    return `AADSTS${this.code}: ${this.message}`;
  }
}

export function aadTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** Same body shape as login.microsoftonline.com's token endpoint. */
export function sendTokenError(
  res: Response,
  err: AadError,
  ctx: { baseUrl: string; correlationId: string },
) {
  const traceId = crypto.randomUUID();
  const timestamp = aadTimestamp(Date.now());
  res
    .status(err.status)
    .set('Cache-Control', 'no-store, no-cache')
    .json({
      error: err.error,
      // Entra separates the diagnostics with CRLF.
      error_description: `${err.description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${ctx.correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [err.code],
      timestamp,
      trace_id: traceId,
      correlation_id: ctx.correlationId,
      error_uri: `${ctx.baseUrl}/error?code=${err.code}`,
      ...err.extra,
    });
}

/** Graph's error envelope; `client-request-id` is echoed the way Graph does. */
export function sendGraphError(
  res: Response,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  const requestId = String(res.getHeader('request-id') ?? crypto.randomUUID());
  const clientRequestId = String(res.getHeader('client-request-id') ?? requestId);
  res
    .status(status)
    .set(headers)
    .json(graphErrorBody(code, message, requestId, clientRequestId));
}
