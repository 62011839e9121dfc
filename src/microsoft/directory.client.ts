import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { graphClient, toGraphError } from './graph-session.js';
import { GraphRequestError } from './microsoft.errors.js';

/** A user as the delta query reports it: present (enabled or not), or removed from the directory. */
export type DeltaUser =
  | { id: string; removed: false; accountEnabled: boolean | null; userPrincipalName: string | null }
  | { id: string; removed: true };

export interface DeltaPage {
  users: DeltaUser[];
  /** Set on the last page of a round: where the next round starts. */
  deltaLink: string | null;
}

export type UserState = 'enabled' | 'disabled' | 'deleted';

/** The stored delta link no longer works (Graph forgets sync state after about a week): start a full round. */
export class DeltaExpiredError extends Error {
  constructor() {
    super('the delta token expired; a full round is needed');
    this.name = 'DeltaExpiredError';
  }
}

const BATCH_LIMIT = 20;
const MAX_BATCH_ATTEMPTS = 5;
const MAX_RETRY_AFTER_MS = 60_000;
const SELECT = 'id,accountEnabled,userPrincipalName';

/**
 * Reads the directory for the sync: users through the delta query (paged, `$select`ed, 999 per page) and
 * single users through `$batch` (20 per request). Request-level 429/503/504 are retried by the Graph
 * client's RetryHandler honouring `Retry-After`; per-item 429s inside a batch are retried here.
 */
@Injectable()
export class DirectoryClient {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private client(accessToken: string): Client {
    return graphClient(this.config.entra.graphBaseUrl, accessToken);
  }

  /** One page of users: the first of a full round (`link` null), or the page a next/delta link names. */
  async usersDeltaPage(
    accessToken: string,
    link: string | null,
  ): Promise<DeltaPage & { nextLink: string | null }> {
    const client = this.client(accessToken);
    if (link && !link.startsWith(`${this.config.entra.graphBaseUrl}/v1.0/users/delta?`)) {
      throw new GraphRequestError(
        400,
        'invalid_delta_link',
        'The stored link is not a Graph users delta link.',
      );
    }
    const request = (link ? client.api(link) : client.api('/users/delta').select(SELECT))
      .header('Prefer', 'odata.maxpagesize=999')
      .option('signal', AbortSignal.timeout(this.config.entra.graphTimeoutMs));
    let body: { value?: Record<string, unknown>[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
    try {
      body = await request.get();
    } catch (error) {
      if (
        error instanceof GraphError &&
        (error.statusCode === 410 || /syncStateNotFound|resyncRequired/i.test(error.code ?? ''))
      ) {
        throw new DeltaExpiredError();
      }
      throw toGraphError(error);
    }
    const users = (body.value ?? []).map((item): DeltaUser => {
      const id = String(item.id);
      if (item['@removed']) return { id, removed: true };
      return {
        id,
        removed: false,
        accountEnabled: typeof item.accountEnabled === 'boolean' ? item.accountEnabled : null,
        userPrincipalName: typeof item.userPrincipalName === 'string' ? item.userPrincipalName : null,
      };
    });
    return { users, nextLink: body['@odata.nextLink'] ?? null, deltaLink: body['@odata.deltaLink'] ?? null };
  }

  /**
   * The current state of each user (`deleted` when Graph answers 404), 20 per `$batch` request. Items
   * throttled with 429 are retried after their `Retry-After`; an item that still fails throws, so a caller
   * never mistakes "could not read" for "deleted".
   */
  async userStates(accessToken: string, ids: string[]): Promise<Map<string, UserState>> {
    const states = new Map<string, UserState>();
    const client = this.client(accessToken);
    for (let offset = 0; offset < ids.length; offset += BATCH_LIMIT) {
      let pending = ids.slice(offset, offset + BATCH_LIMIT);
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
          body = await client
            .api('/$batch')
            .option('signal', AbortSignal.timeout(this.config.entra.graphTimeoutMs))
            .post({ requests });
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
    return states;
  }
}

function retryAfterMs(headers: Record<string, string> | undefined, attempt: number): number {
  const header = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 2 ** attempt * 500;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
