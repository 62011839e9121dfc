import { Client, GraphError } from '@microsoft/microsoft-graph-client';
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
