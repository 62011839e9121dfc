import {
  Client,
  GraphError,
  type GraphRequest,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import { GraphRequestError } from './microsoft.errors.js';

/**
 * A Graph client for one access token, on the configured Graph host. `customHosts` takes host names without
 * the port: with the port, the client silently drops the Authorization header.
 */
export function graphClient(graphBaseUrl: string, accessToken: string): Client {
  return Client.init({
    baseUrl: `${graphBaseUrl}/`,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(graphBaseUrl).hostname]),
    authProvider: (done) => done(null, accessToken),
  });
}

/** Graph's failures as one error type: `status` 0 means no answer at all (network, timeout). */
export function toGraphError(error: unknown): GraphRequestError {
  if (error instanceof GraphRequestError) return error;
  if (error instanceof GraphError)
    return new GraphRequestError(error.statusCode, error.code ?? 'unknown', error.message);
  return new GraphRequestError(0, 'network_error', error instanceof Error ? error.message : String(error));
}

/**
 * `request` bounded by one deadline of `timeoutMs` for the whole call, the Graph client's retries after
 * `Retry-After` included (GRAPH_TIMEOUT_MS): the signal aborts whatever attempt is out when it passes, and a
 * retry whose wait would outlast it is not made — the call fails at once with Graph's answer instead of sleeping
 * past its deadline (the client's RetryHandler honours a `Retry-After` of up to 180 s, and a signal does not
 * interrupt its sleep). The predicted wait is the RetryHandler's own: `Retry-After` in seconds or as a date,
 * else its back-off.
 */
export function withDeadline(request: GraphRequest, timeoutMs: number): GraphRequest {
  const deadline = Date.now() + timeoutMs;
  const retry = new RetryHandlerOptions(
    undefined,
    undefined,
    (delay, attempt, _request, _options, response) => {
      const header = response.headers?.get('Retry-After') ?? null;
      let waitS: number;
      if (header === null) waitS = attempt >= 2 ? Math.round((2 ** attempt - 1) / 2) + delay : delay;
      else if (Number.isNaN(Number(header))) waitS = (new Date(header).getTime() - Date.now()) / 1000;
      else waitS = Number(header);
      return Date.now() + waitS * 1000 < deadline;
    },
  );
  return request.option('signal', AbortSignal.timeout(timeoutMs)).middlewareOptions([retry]);
}
