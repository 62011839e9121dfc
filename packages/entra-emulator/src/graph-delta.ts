import type { EmulatorContext } from './context.js';
import { authorize, badRequest, GraphError, PERMISSIONS, type GraphRoute } from './graph-common.js';
import {
  decodeToken,
  encodeToken,
  graphLink,
  queryOptions,
  selection,
  type TokenPayload,
} from './graph-query.js';
import { MAX_DELTA_PAGE_SIZE } from './graph-controls.js';
import { USER_TYPE, userView, usersContext } from './graph-users.js';
import { isTombstone, type DirectoryEntry } from './user-directory.js';

/**
 * Where a round of `/users/delta` stands. A round pages either over the whole tenant (`full`, cursor =
 * slot) or over the change log (`changes`, cursor = log position), and ends at the watermark `upTo`
 * taken when the round began; the deltaLink then carries `upTo` as the next round's starting point.
 */
interface Round {
  tenantId: string;
  select: string | null;
  mode: 'full' | 'changes';
  cursor: number;
  upTo: number;
}

const DELTA_PATH = ['users', 'delta'];

/** `Prefer: odata.maxpagesize=N`; Graph caps what it applies at 200 users (MAX_DELTA_PAGE_SIZE). */
function preferredPageSize(prefer: string | undefined): number | undefined {
  const m = /(?:^|[,;\s])odata\.maxpagesize\s*=\s*"?(\d+)"?/i.exec(prefer ?? '');
  const n = m ? Number(m[1]) : 0;
  return n >= 1 ? Math.min(n, MAX_DELTA_PAGE_SIZE) : undefined;
}

function changeView(entry: DirectoryEntry, names: readonly string[]): Record<string, unknown> {
  if (isTombstone(entry)) return { id: entry.id, '@removed': { reason: 'deleted' } };
  // Soft-deleted users can still come back within 30 days, hence "changed".
  if (entry.deletedAt) return { id: entry.id, '@removed': { reason: 'changed' } };
  return userView(entry, names);
}

export function deltaRoutes(ctx: EmulatorContext): GraphRoute[] {
  const { store } = ctx;

  function readToken(raw: string, kind: 'delta' | 'page', tenantId: string): TokenPayload {
    const token = decodeToken(raw);
    if (!token || token.k !== kind || token.t !== tenantId.toLowerCase()) {
      throw badRequest(`The ${kind === 'delta' ? '$deltatoken' : '$skiptoken'} is invalid.`);
    }
    if (token.g !== store.deltaTokenGeneration) {
      throw new GraphError(
        410,
        'syncStateNotFound',
        'The sync state generation is not found: resync required. Start a new round without a token.',
      );
    }
    return token;
  }

  const tokenSelect = (token: TokenPayload) => (typeof token.s === 'string' ? token.s : null);
  const tokenNumber = (token: TokenPayload, key: string) => {
    const value = token[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw badRequest('The token is invalid.');
    }
    return value;
  };

  function deltaLink(round: Pick<Round, 'tenantId' | 'select'>, watermark: number): string {
    const token = encodeToken({
      k: 'delta',
      t: round.tenantId.toLowerCase(),
      g: store.deltaTokenGeneration,
      s: round.select,
      w: watermark,
    });
    return graphLink(ctx.baseUrl, DELTA_PATH, [['$deltatoken', token]]);
  }

  function pageLink(round: Round, cursor: number): string {
    const token = encodeToken({
      k: 'page',
      t: round.tenantId.toLowerCase(),
      g: store.deltaTokenGeneration,
      s: round.select,
      m: round.mode,
      c: cursor,
      h: round.upTo,
    });
    return graphLink(ctx.baseUrl, DELTA_PATH, [['$skiptoken', token]]);
  }

  return [
    {
      method: 'GET',
      pattern: '/users/delta',
      handle: ({ principal, query, header }) => {
        // $top is accepted and ignored: the service sizes delta pages.
        const options = queryOptions(query, ['$select', '$top', '$skiptoken', '$deltatoken']);
        authorize(principal, PERMISSIONS.users);
        const tenantId = principal.tenant.id;
        const skiptoken = options.get('$skiptoken');
        const deltatoken = options.get('$deltatoken');
        if (skiptoken !== undefined && deltatoken !== undefined) {
          throw badRequest('$skiptoken and $deltatoken cannot be combined.');
        }
        const preferred = preferredPageSize(header('prefer'));
        const size = preferred ?? store.graphSettings.deltaPageSize;

        let round: Round;
        if (skiptoken !== undefined) {
          const token = readToken(skiptoken, 'page', tenantId);
          round = {
            tenantId,
            select: tokenSelect(token),
            mode: token.m === 'changes' ? 'changes' : 'full',
            cursor: tokenNumber(token, 'c'),
            upTo: tokenNumber(token, 'h'),
          };
        } else if (deltatoken?.toLowerCase() === 'latest') {
          // "Sync from now": for directory resources such as users, `$deltaToken=latest` answers a
          // deltaLink and no resource data ("Use delta query to track changes in Microsoft Graph data",
          // https://learn.microsoft.com/graph/delta-query-overview), so a client can start tracking
          // without reading the tenant.
          const select = options.get('$select');
          const names = selection(USER_TYPE, select);
          return {
            status: 200,
            body: {
              '@odata.context': usersContext(ctx.baseUrl, names, select !== undefined),
              value: [],
              '@odata.deltaLink': deltaLink(
                { tenantId, select: select === undefined ? null : names.join(',') },
                store.directory.watermark,
              ),
            },
          };
        } else if (deltatoken !== undefined) {
          const token = readToken(deltatoken, 'delta', tenantId);
          round = {
            tenantId,
            select: tokenSelect(token),
            mode: 'changes',
            cursor: store.directory.logCursorAfter(tenantId, tokenNumber(token, 'w')),
            upTo: store.directory.watermark,
          };
        } else {
          const select = options.get('$select');
          const names = selection(USER_TYPE, select);
          round = {
            tenantId,
            select: select === undefined ? null : names.join(','),
            mode: 'full',
            cursor: 0,
            upTo: store.directory.watermark,
          };
        }

        const names = selection(USER_TYPE, round.select ?? undefined);
        let value: Record<string, unknown>[];
        let next: number | null;
        if (round.mode === 'full') {
          const page = store.directory.scan(tenantId, round.cursor, size, () => true);
          value = page.items.map((u) => userView(u, names));
          next = page.next;
        } else {
          const page = store.directory.changes(tenantId, round.cursor, round.upTo, size);
          value = page.items.map((entry) => changeView(entry, names));
          next = page.next;
        }
        const headers: Record<string, string> =
          preferred === undefined ? {} : { 'Preference-Applied': `odata.maxpagesize=${preferred}` };
        return {
          status: 200,
          headers,
          body: {
            '@odata.context': usersContext(ctx.baseUrl, names, round.select !== null),
            value,
            ...(next === null
              ? { '@odata.deltaLink': deltaLink(round, round.upTo) }
              : { '@odata.nextLink': pageLink(round, next) }),
          },
        };
      },
    },
  ];
}
