import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from './address-policy.js';

const RESPONSE_BYTES_KEPT = 1024;

export interface SendResult {
  /** The HTTP status, or null when no response came. */
  status: number | null;
  body: string | null;
  durationMs: number;
  /** Why there is no (successful) response: `timeout`, `address_refused`, `connection_failed`. */
  error: string | null;
}

class AddressRefusedError extends Error {}

/**
 * Resolves the host and hands the socket the address it checked, so a name cannot resolve to a public
 * address for the check and to a private one for the connection (DNS rebinding).
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = addresses.filter((a) => allowPrivate || isPublicAddress(a.address));
      if (allowed.length === 0)
        return callback(new AddressRefusedError(`${hostname} resolves to no public address`), '', 0);
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/**
 * Connections are kept open between deliveries (one endpoint receives one delivery after another): no new TCP
 * and TLS handshake for each, on either side. Idle sockets close after 4 s, before the 5 s after which common
 * servers (Node's included) drop an idle keep-alive connection. One pool per address policy, so a socket
 * opened while private addresses were allowed is never reused under the stricter policy.
 */
const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, timeout: 4_000, scheduling: 'lifo' as const };
    agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/**
 * One POST to a webhook endpoint: no redirects followed, at most `timeoutMs` for the whole exchange, the
 * first kilobyte of the response kept. A kept-open connection that the receiver closed just before it was
 * reused fails before any response; the request is then sent once more on a new connection, within the same
 * time limit.
 */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<SendResult> {
  const started = Date.now();
  const target = new URL(url);
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    let settled = false;
    let request: http.ClientRequest | undefined;
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: Date.now() - started });
    };
    const timer = setTimeout(() => {
      finish({ status: null, body: null, error: 'timeout' });
      request?.destroy();
    }, options.timeoutMs);
    // A literal address is never looked up: check it here.
    if (!options.allowPrivate && /^[\d.]+$|:/.test(literal) && !isPublicAddress(literal)) {
      finish({ status: null, body: null, error: 'address_refused' });
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    const send = (fresh: boolean) => {
      let answered = false;
      const current = client.request(
        target,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'entra-directory-webhooks/1',
            ...headers,
          },
          lookup: guardedLookup(options.allowPrivate),
          agent: fresh ? false : agentFor(target.protocol, options.allowPrivate),
        },
        (response) => {
          answered = true;
          const chunks: Buffer[] = [];
          let kept = 0;
          response.on('data', (chunk: Buffer) => {
            if (kept < RESPONSE_BYTES_KEPT) {
              chunks.push(chunk.subarray(0, RESPONSE_BYTES_KEPT - kept));
              kept += Math.min(chunk.length, RESPONSE_BYTES_KEPT - kept);
            }
          });
          const done = () =>
            finish({
              status: response.statusCode ?? null,
              body: Buffer.concat(chunks).toString('utf8'),
              error: null,
            });
          response.on('end', done);
          response.on('error', done);
        },
      );
      request = current;
      current.on('error', (error: NodeJS.ErrnoException) => {
        if (!fresh && !answered && !settled && current.reusedSocket && error.code === 'ECONNRESET') {
          send(true);
          return;
        }
        finish({
          status: null,
          body: null,
          error: error instanceof AddressRefusedError ? 'address_refused' : 'connection_failed',
        });
      });
      current.end(body);
    };
    send(false);
  });
}
