import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';

/*
 * A small SCIM service provider for the provisioning simulator's specs (left out of the package build): it
 * records every request, keeps users and groups in memory, understands both of Entra's PATCH dialects loosely,
 * and fails requests on demand. It is a recording target, not a reference implementation.
 */

export interface RecordedRequest {
  method: string;
  /** Path below the base, e.g. `/Users/…`. */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

type Resource = Record<string, unknown> & { id: string };

interface Failure {
  matches: (r: RecordedRequest) => boolean;
  status: number;
  times: number;
}

export interface RecordingTarget {
  /** The Tenant URL to paste: `http://127.0.0.1:PORT/scim/v2`. */
  url: string;
  token: string;
  requests: RecordedRequest[];
  users: Map<string, Resource>;
  groups: Map<string, Resource>;
  /** Answers the next `times` matching requests with `status` (a SCIM error body) instead. */
  failNext(matches: (r: RecordedRequest) => boolean, status: number, times?: number): void;
  /** A user the simulator did not provision (e.g. created by hand in the product). */
  seedUser(resource: Omit<Resource, 'id'>): Resource;
  /** Forgets the recorded requests. */
  clear(): void;
  /** Forgets requests, resources and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

function userFilter(filter: string | undefined, attr: string): string | undefined {
  const m = filter && new RegExp(`^${attr} eq "((?:[^"\\\\]|\\\\.)*)"$`, 'i').exec(filter);
  return m ? m[1].replace(/\\(.)/g, '$1') : undefined;
}

function setPath(resource: Resource, path: string, value: unknown): void {
  if (path.toLowerCase() === 'emails[type eq "work"].value') {
    const emails = ((resource.emails as Record<string, unknown>[] | undefined) ?? []).filter(
      (e) => e.type !== 'work',
    );
    resource.emails = value === null ? emails : [...emails, { type: 'work', primary: true, value }];
    return;
  }
  if (path.includes('.')) {
    const [outer, inner] = path.split('.');
    const obj = { ...((resource[outer] as Record<string, unknown> | undefined) ?? {}) };
    if (value === null) delete obj[inner];
    else obj[inner] = value;
    resource[outer] = obj;
    return;
  }
  if (value === null) delete resource[path];
  else resource[path] = path === 'active' ? truthy(value) : value;
}

export async function startRecordingTarget(token = 'scim_recording-target-token'): Promise<RecordingTarget> {
  const requests: RecordedRequest[] = [];
  const users = new Map<string, Resource>();
  const groups = new Map<string, Resource>();
  const failures: Failure[] = [];
  const app = express();
  app.use(express.json({ type: ['application/json', 'application/scim+json'] }));

  const error = (res: Response, status: number, detail: string, scimType?: string) =>
    res
      .status(status)
      .type('application/scim+json')
      .json({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: String(status),
        ...(scimType ? { scimType } : {}),
        detail,
      });
  const list = (res: Response, resources: Resource[]) =>
    res.type('application/scim+json').json({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: resources.length,
      startIndex: 1,
      itemsPerPage: resources.length,
      Resources: resources,
    });

  app.use('/scim/v2', (req: Request, res: Response, next) => {
    const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v)]));
    const recorded: RecordedRequest = {
      method: req.method,
      path: req.path,
      query,
      contentType: req.get('content-type'),
      authorization: req.get('authorization'),
      body: req.body as unknown,
    };
    requests.push(recorded);
    if (recorded.authorization !== `Bearer ${token}`) return error(res, 401, 'unknown token');
    const failure = failures.find((f) => f.times > 0 && f.matches(recorded));
    if (failure) {
      failure.times--;
      return error(res, failure.status, 'injected failure');
    }
    next();
  });

  app.get('/scim/v2/Users', (req, res) => {
    const userName = userFilter(req.query.filter as string | undefined, 'userName');
    if (req.query.filter && userName === undefined)
      return error(res, 400, 'unsupported filter', 'invalidFilter');
    const found = [...users.values()].filter(
      (u) => userName === undefined || String(u.userName).toLowerCase() === userName.toLowerCase(),
    );
    list(res, found);
  });
  app.post('/scim/v2/Users', (req, res) => {
    const body = req.body as Record<string, unknown>;
    const userName = String(body.userName);
    if ([...users.values()].some((u) => String(u.userName).toLowerCase() === userName.toLowerCase())) {
      return error(res, 409, 'userName is taken', 'uniqueness');
    }
    const user: Resource = { ...body, id: crypto.randomUUID(), active: truthy(body.active) };
    users.set(user.id, user);
    res.status(201).type('application/scim+json').json(user);
  });
  app.patch('/scim/v2/Users/:id', (req, res) => {
    const user = users.get(String(req.params.id));
    if (!user) return error(res, 404, 'no such user');
    for (const op of (req.body as { Operations: Record<string, unknown>[] }).Operations) {
      const kind = String(op.op).toLowerCase();
      if (typeof op.path === 'string') setPath(user, op.path, kind === 'remove' ? null : op.value);
      else
        for (const [path, value] of Object.entries(op.value as Record<string, unknown>))
          setPath(user, path, value);
    }
    res.type('application/scim+json').json(user);
  });
  app.delete('/scim/v2/Users/:id', (req, res) => {
    const id = String(req.params.id);
    if (!users.delete(id)) return error(res, 404, 'no such user');
    for (const group of groups.values()) {
      group.members = (group.members as { value: string }[]).filter((m) => m.value !== id);
    }
    res.status(204).end();
  });

  app.get('/scim/v2/Groups', (req, res) => {
    const displayName = userFilter(req.query.filter as string | undefined, 'displayName');
    const found = [...groups.values()].filter(
      (g) => displayName === undefined || String(g.displayName).toLowerCase() === displayName.toLowerCase(),
    );
    const exclude = req.query.excludedAttributes === 'members';
    list(
      res,
      found.map((g) => (exclude ? { ...g, members: undefined } : g)),
    );
  });
  app.post('/scim/v2/Groups', (req, res) => {
    const group: Resource = {
      ...(req.body as Record<string, unknown>),
      id: crypto.randomUUID(),
      members: [],
    };
    groups.set(group.id, group);
    res.status(201).type('application/scim+json').json(group);
  });
  app.patch('/scim/v2/Groups/:id', (req, res) => {
    const group = groups.get(String(req.params.id));
    if (!group) return error(res, 404, 'no such group');
    let members = group.members as { value: string }[];
    for (const op of (req.body as { Operations: Record<string, unknown>[] }).Operations) {
      const kind = String(op.op).toLowerCase();
      const path = String(op.path ?? '');
      const values = Array.isArray(op.value) ? (op.value as { value: string }[]).map((v) => v.value) : [];
      const filtered = /^members\[value eq "([^"]+)"\]$/i.exec(path);
      if (kind === 'add' && path === 'members') {
        const unknown = values.filter((v) => !users.has(v));
        if (unknown.length > 0)
          return error(res, 400, `unknown members ${unknown.join(', ')}`, 'invalidValue');
        members = [
          ...members.filter((m) => !values.includes(m.value)),
          ...values.map((value) => ({ value })),
        ];
      } else if (kind === 'remove' && filtered) {
        members = members.filter((m) => m.value !== filtered[1]);
      } else if (kind === 'remove' && path === 'members') {
        members = members.filter((m) => !values.includes(m.value));
      } else if (kind === 'replace' && path) {
        group[path] = op.value;
      }
    }
    group.members = members;
    res.status(204).end();
  });
  app.delete('/scim/v2/Groups/:id', (req, res) => {
    if (!groups.delete(String(req.params.id))) return error(res, 404, 'no such group');
    res.status(204).end();
  });

  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    token,
    requests,
    users,
    groups,
    failNext: (matches, status, times = 1) => failures.push({ matches, status, times }),
    seedUser: (resource) => {
      const user: Resource = { ...resource, id: crypto.randomUUID() };
      users.set(user.id, user);
      return user;
    },
    clear: () => {
      requests.length = 0;
    },
    reset: () => {
      requests.length = 0;
      users.clear();
      groups.clear();
      failures.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
