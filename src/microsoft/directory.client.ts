import { Inject, Injectable } from '@nestjs/common';
import type { Client, GraphRequest } from '@microsoft/microsoft-graph-client';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { graphClient, toGraphError, withDeadline } from './graph-session.js';
import { GraphRequestError } from './microsoft.errors.js';

/**
 * One page of a directory read, projected as soon as it arrives to what the sync decides on. The ids are one
 * comma-separated string rather than an object per user: a page is held while the database plans it, and one
 * string per page keeps that cheap for the collector whatever the directory's size.
 */
export interface DirectoryPage {
  /** How many users the page listed (present or removed). */
  count: number;
  /** The object id of every user the page listed, comma-separated (object ids are GUIDs). */
  ids: string;
  /** Those listed with `accountEnabled: false`. */
  disabledIds: string[];
  /** Those a delta page reports as removed (`@removed`); never set by `GET /users`. */
  removedIds: string[];
  /** The next page of the same read; null on its last page. */
  nextLink: string | null;
  /** Set on the last page of a delta round: where the next round starts. Always null for `GET /users`. */
  deltaLink: string | null;
}

export type UserState = 'enabled' | 'disabled' | 'deleted';

/**
 * The stored delta link cannot be used: Graph forgot its sync state (410 after about a week), refuses the
 * token (400), or the link does not point at our Graph host's users delta. Never a permanent failure: the
 * caller starts a full round.
 */
export class DeltaLinkUnusableError extends Error {
  constructor(readonly reason: 'expired' | 'invalid' | 'foreign') {
    super(`the delta link is ${reason}; a full round is needed`);
    this.name = 'DeltaLinkUnusableError';
  }
}

const BATCH_LIMIT = 20;
/** `$batch` requests in flight at once for one caller. */
const BATCH_CONCURRENCY = 4;
const MAX_BATCH_ATTEMPTS = 5;
const MAX_RETRY_AFTER_MS = 60_000;
// Only what the sync decides on: every property more is bytes to send and parse on each of hundreds of pages.
const SELECT = 'id,accountEnabled';
/** `GET /users` takes `$top` up to 999; `/users/delta` pages are capped at 200 by Graph whatever we ask. */
const USERS_PAGE_SIZE = 999;

/**
 * Reads the directory for the sync. A full round reads `GET /users` (999 per page, `$select`ed) and takes its
 * delta link from `/users/delta?$deltatoken=latest` first; an incremental round follows a delta link (Graph
 * sizes those pages, at most 200 users). Single users are read through `$batch` (20 per request).
 * Request-level 429/503/504 are retried by the Graph client's RetryHandler honouring `Retry-After`; per-item
 * 429s inside a batch are retried here.
 */
@Injectable()
export class DirectoryClient {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private client(accessToken: string): Client {
    return graphClient(this.config.entra.graphBaseUrl, accessToken);
  }

  private get root(): string {
    return `${this.config.entra.graphBaseUrl}/v1.0`;
  }

  /**
   * A delta link for "from now on", without reading any user (`$deltatoken=latest`). Requested before a full
   * read, so whatever changes while the read runs is in the next incremental round.
   */
  async latestDeltaLink(accessToken: string): Promise<string> {
    const body = await this.get(
      this.client(accessToken).api('/users/delta').select(SELECT).query({ $deltatoken: 'latest' }),
    );
    const link = body['@odata.deltaLink'];
    if (typeof link !== 'string' || !link.startsWith(`${this.root}/users/delta?`)) {
      throw new GraphRequestError(
        502,
        'delta_link_missing',
        'Graph answered $deltatoken=latest without a delta link.',
      );
    }
    return link;
  }

  /** One page of `GET /users`: the first (`link` null) or the one a nextLink names. */
  async usersPage(accessToken: string, link: string | null): Promise<DirectoryPage> {
    const client = this.client(accessToken);
    if (link && !link.startsWith(`${this.root}/users?`)) {
      throw new GraphRequestError(400, 'invalid_page_link', 'The link is not a Graph users page link.');
    }
    const body = await this.get(
      link ? client.api(link) : client.api('/users').select(SELECT).top(USERS_PAGE_SIZE),
    );
    return toPage(body, null);
  }

  /** One page of a delta round: the first is the stored delta link, the others its nextLinks. */
  async usersDeltaPage(accessToken: string, link: string): Promise<DirectoryPage> {
    // Only ever follow links back to our own Graph host: a link for another host (a moved emulator, a
    // changed GRAPH_BASE_URL) would carry the access token elsewhere.
    if (!link.startsWith(`${this.root}/users/delta?`)) throw new DeltaLinkUnusableError('foreign');
    let body: GraphCollection;
    try {
      body = await this.get(this.client(accessToken).api(link), true);
    } catch (error) {
      if (error instanceof GraphError) {
        if (error.statusCode === 410 || /syncStateNotFound|resyncRequired/i.test(error.code ?? ''))
          throw new DeltaLinkUnusableError('expired');
        if (error.statusCode === 400) throw new DeltaLinkUnusableError('invalid');
      }
      throw toGraphError(error);
    }
    return toPage(body, body['@odata.deltaLink'] ?? null);
  }

  private async get(request: GraphRequest, raw = false): Promise<GraphCollection> {
    try {
      return (await withDeadline(request, this.config.entra.graphTimeoutMs).get()) as GraphCollection;
    } catch (error) {
      if (raw) throw error;
      throw toGraphError(error);
    }
  }

  /**
   * The current state of each user (`deleted` when Graph answers 404), 20 per `$batch` request. Items
   * throttled with 429 are retried after their `Retry-After`; an item that still fails throws, so a caller
   * never mistakes "could not read" for "deleted".
   */
  async userStates(accessToken: string, ids: string[]): Promise<Map<string, UserState>> {
    const states = new Map<string, UserState>();
    const client = this.client(accessToken);
    const chunks: string[][] = [];
    for (let offset = 0; offset < ids.length; offset += BATCH_LIMIT)
      chunks.push(ids.slice(offset, offset + BATCH_LIMIT));
    // A few batches in flight at once: each costs a round trip, and Graph answers them independently.
    let nextChunk = 0;
    const worker = async () => {
      while (nextChunk < chunks.length) await this.readBatch(client, chunks[nextChunk++], states);
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, chunks.length) }, worker));
    return states;
  }

  private async readBatch(client: Client, ids: string[], states: Map<string, UserState>): Promise<void> {
    {
      let pending = ids;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const requests = pending.map((id, index) => ({
          id: String(index + 1),
          method: 'GET',
          url: `/users/${encodeURIComponent(id)}?$select=id,accountEnabled`,
        }));
        let body: {
          responses?: {
            id: string;
            status: number;
            headers?: Record<string, string>;
            body?: Record<string, unknown>;
          }[];
        };
        try {
          body = await withDeadline(client.api('/$batch'), this.config.entra.graphTimeoutMs).post({
            requests,
          });
        } catch (error) {
          throw toGraphError(error);
        }
        const retry: string[] = [];
        let waitMs = 0;
        for (const response of body.responses ?? []) {
          const id = pending[Number(response.id) - 1];
          if (id === undefined) continue;
          if (response.status === 200)
            states.set(id, response.body?.accountEnabled === false ? 'disabled' : 'enabled');
          else if (response.status === 404) states.set(id, 'deleted');
          else if ((response.status === 429 || response.status >= 500) && attempt < MAX_BATCH_ATTEMPTS) {
            retry.push(id);
            waitMs = Math.max(waitMs, retryAfterMs(response.headers, attempt));
          } else {
            throw new GraphRequestError(
              response.status,
              'batch_item_failed',
              `Reading user ${id} failed (${response.status}).`,
            );
          }
        }
        const missing = pending.filter((id) => !states.has(id) && !retry.includes(id));
        if (missing.length > 0)
          throw new GraphRequestError(502, 'batch_incomplete', 'The batch answer lacked some items.');
        if (retry.length > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        pending = retry;
      }
    }
  }
}

interface GraphCollection {
  value?: Record<string, unknown>[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/**
 * Projects a parsed page at once, before anything is awaited: the parsed objects die young, and only the
 * projection (one string of ids, the few disabled or removed ones) is held while the page is planned.
 */
function toPage(body: GraphCollection, deltaLink: string | null): DirectoryPage {
  const items = body.value ?? [];
  const ids: string[] = new Array<string>(items.length);
  const disabledIds: string[] = [];
  const removedIds: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const id = String(item.id);
    ids[i] = id;
    if (item['@removed']) removedIds.push(id);
    else if (item.accountEnabled === false) disabledIds.push(id);
  }
  return {
    count: items.length,
    ids: ids.join(','),
    disabledIds,
    removedIds,
    nextLink: body['@odata.nextLink'] ?? null,
    deltaLink,
  };
}

function retryAfterMs(headers: Record<string, string> | undefined, attempt: number): number {
  const header = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 2 ** attempt * 500;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
