import type { EmulatorContext } from './context.js';
import {
  badRequest,
  faultCode,
  graphErrorBody,
  GraphError,
  type GraphCall,
  type GraphResult,
} from './graph-common.js';
import { pathSegments, type GraphRoutes } from './graph-routes.js';
import type { GraphThrottle } from './graph-throttling.js';

/**
 * Graph takes at most 20 requests in one `$batch` and refuses more with 400 ("Combine multiple HTTP
 * requests using JSON batching", https://learn.microsoft.com/graph/json-batching: "Microsoft Graph supports
 * batching up to 20 requests into the JSON object").
 */
export const MAX_BATCH_REQUESTS = 20;

interface Step {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

interface StepResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const invalidPayload = () => badRequest('Invalid batch payload format.');

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function parseSteps(body: unknown): Step[] {
  const requests = isRecord(body) ? body.requests : undefined;
  if (!Array.isArray(requests) || requests.length === 0) throw invalidPayload();
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw badRequest(
      `The number of requests in the batch (${requests.length}) exceeds the maximum of ${MAX_BATCH_REQUESTS}.`,
    );
  }
  const seen = new Set<string>();
  return requests.map((raw: unknown) => {
    if (!isRecord(raw)) throw invalidPayload();
    const { id, method, url, headers = {}, body, dependsOn = [] } = raw;
    if (typeof id !== 'string' || !id || typeof method !== 'string' || typeof url !== 'string') {
      throw invalidPayload();
    }
    if (seen.has(id))
      throw badRequest(`Batch request id '${id}' is used more than once; ids must be unique.`);
    if (!isRecord(headers) || Object.values(headers).some((v) => typeof v !== 'string'))
      throw invalidPayload();
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string' || !seen.has(d))) {
      throw badRequest(`Request '${id}' depends on a request that does not precede it in the batch.`);
    }
    seen.add(id);
    return {
      id,
      method: method.toUpperCase(),
      url,
      headers: headers as Record<string, string>,
      body,
      dependsOn: dependsOn as string[],
    };
  });
}

/** A fixed permutation per batch (seeded by its ids) that is never the request order. */
function shuffled<T>(items: readonly T[], seed: string): T[] {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    const j = h % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  if (out.length > 1 && out.every((item, i) => item === items[i])) out.push(out.shift()!);
  return out;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/**
 * `POST /$batch`: every step runs through the same route table and permission checks as a direct call,
 * with the batch's token. Faults whose path matches a step apply to that step only.
 */
export function batchRunner(ctx: EmulatorContext, routes: GraphRoutes, throttle: GraphThrottle) {
  const { store } = ctx;

  return async (
    batch: GraphCall,
    ids: { requestId: string; clientRequestId: string },
  ): Promise<GraphResult> => {
    const steps = parseSteps(batch.body);
    const errorResponse = (id: string, err: GraphError): StepResponse => ({
      id,
      status: err.status,
      headers: { ...JSON_HEADERS, ...err.headers },
      body: graphErrorBody(err.code, err.message, ids.requestId, ids.clientRequestId),
    });

    async function run(step: Step): Promise<StepResponse> {
      // Step URLs are relative to the version root; an absolute URL is not a step URL at all.
      if (/^[a-z][a-z0-9+.-]*:/i.test(step.url))
        throw badRequest('Invalid request URI: URL must be relative.');
      const q = step.url.indexOf('?');
      const rawPath = q < 0 ? step.url : step.url.slice(0, q);
      const rawQuery = q < 0 ? '' : step.url.slice(q + 1);
      const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
      const headerOf = (name: string) =>
        Object.entries(step.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
      if (step.body !== undefined && !headerOf('content-type')) {
        throw badRequest(`Write request id : ${step.id} does not contain Content-Type header or body.`);
      }
      const fault = store.takeFault(step.method, `/v1.0${path}`);
      if (fault?.kind === 'timeout') await new Promise(() => undefined);
      if (fault?.kind === 'latency')
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 1000));
      if (fault?.kind === 'status') {
        const status = fault.status ?? 500;
        throw new GraphError(
          status,
          faultCode(status),
          'Injected fault.',
          fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) },
        );
      }
      const segments = pathSegments(path);
      const query = new URLSearchParams(rawQuery);
      throttle.charge(batch.principal, step.method, segments, query);
      const result = routes.dispatch({
        method: step.method,
        segments,
        query,
        header: headerOf,
        body: step.body,
        principal: batch.principal,
      });
      return {
        id: step.id,
        status: result.status,
        headers: { ...JSON_HEADERS, ...result.headers },
        body: result.body,
      };
    }

    const responses = new Map<string, StepResponse>();
    for (const step of steps) {
      const failedDependency = step.dependsOn.find((d) => (responses.get(d)?.status ?? 500) >= 400);
      if (failedDependency !== undefined) {
        responses.set(
          step.id,
          errorResponse(
            step.id,
            new GraphError(424, 'FailedDependency', `Dependent request '${failedDependency}' failed.`),
          ),
        );
        continue;
      }
      try {
        responses.set(step.id, await run(step));
      } catch (err) {
        if (!(err instanceof GraphError)) throw err;
        responses.set(step.id, errorResponse(step.id, err));
      }
    }

    const ordered = shuffled(
      steps.map((s) => responses.get(s.id)!),
      steps.map((s) => s.id).join('\n'),
    );
    return { status: 200, body: { responses: ordered } };
  };
}
