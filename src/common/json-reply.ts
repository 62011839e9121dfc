import { StreamableFile } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Response } from 'express';

/**
 * A Content-Type Express's `send` only completes: a lower-case media type (as `@Header` sets it), to which it adds
 * `; charset=utf-8`, or one that already says so, which it leaves as it is.
 */
const PLAIN_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(; charset=utf-8)?$/;
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The bytes `response.json(body)` sends, written in one step, or false where Express would do more than that
 * (a HEAD request, a 204/304, a conditional request or an ETag or Last-Modified the handler set, a
 * Transfer-Encoding, a Content-Type it would rewrite): then Express answers as before.
 */
export function sendJson(response: Response, body: object): boolean {
  const status = response.statusCode;
  const request = response.req;
  if (status === 204 || status === 304 || request.method === 'HEAD') return false;
  // `If-None-Match: *` makes Express answer 304 even without an ETag.
  if (
    request.headers['if-none-match'] !== undefined ||
    response.hasHeader('etag') ||
    response.hasHeader('last-modified') ||
    response.hasHeader('transfer-encoding')
  )
    return false;
  const type = response.getHeader('content-type');
  let contentType = JSON_TYPE;
  if (type !== undefined) {
    if (typeof type !== 'string') return false;
    const plain = PLAIN_TYPE.exec(type);
    if (!plain) return false;
    contentType = plain[1] ? type : `${type}; charset=utf-8`;
  }
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) return false;
  // The order Express sets them in (Content-Type keeps its place when the handler or an edge set it).
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Length', Buffer.byteLength(json));
  response.end(json, 'utf8');
  return true;
}

/**
 * Nest answers a handler's object through `response.json`, which walks Express's generic `send` (charset
 * parsing and formatting of the Content-Type, a Buffer copy of bodies over 1,000 characters, freshness and
 * method checks) on every request. For the common case (the app's default JSON settings) the adapter's `reply`
 * writes the same status, headers and body directly; anything else still goes through Express.
 */
export function useDirectJsonReplies(app: NestExpressApplication): void {
  const express = app.getHttpAdapter().getInstance() as { get(setting: string): unknown };
  // With any of these set, Express's bytes differ from JSON.stringify's.
  if (express.get('json replacer') || express.get('json spaces') || express.get('json escape')) return;
  const adapter = app.getHttpAdapter() as unknown as {
    reply(response: Response, body: unknown, statusCode?: number): unknown;
  };
  const reply = adapter.reply.bind(adapter);
  adapter.reply = (response: Response, body: unknown, statusCode?: number) => {
    if (
      body === null ||
      typeof body !== 'object' ||
      body instanceof StreamableFile ||
      body instanceof Error ||
      ArrayBuffer.isView(body)
    )
      return reply(response, body, statusCode);
    if (statusCode !== undefined && statusCode !== null) response.status(statusCode);
    if (!sendJson(response, body)) return reply(response, body, statusCode);
  };
}
