import { GraphError, type GraphCall, type GraphResult, type GraphRoute } from './graph-common.js';

export const unknownSegment = (segment: string) =>
  new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);

/** Splits a raw path below /v1.0 into decoded segments. */
export function pathSegments(rawPath: string): string[] {
  try {
    return rawPath.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new GraphError(400, 'BadRequest', 'The request URI is not valid.');
  }
}

/** Graph routes and their dispatcher, shared by direct requests and `$batch` steps. */
export class GraphRoutes {
  private readonly routes: { route: GraphRoute; parts: string[] }[];

  constructor(routes: GraphRoute[]) {
    this.routes = routes.map((route) => ({ route, parts: route.pattern.split('/').filter(Boolean) }));
  }

  /** Finds the route first, so unknown paths answer 400 (or 405) before the token is even looked at. */
  resolve(method: string, segments: string[]): { route: GraphRoute; params: Record<string, string> } {
    let pathMatched = false;
    for (const { route, parts } of this.routes) {
      const params = match(parts, segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method === method.toUpperCase()) return { route, params };
    }
    if (pathMatched) {
      throw new GraphError(
        405,
        'Request_BadRequest',
        'Specified HTTP method is not allowed for the request target.',
      );
    }
    throw unknownSegment(firstUnknownSegment(this.routes, segments));
  }

  dispatch(call: GraphCall): GraphResult {
    const { route, params } = this.resolve(call.method, call.segments);
    return route.handle(call, params);
  }
}

function literal(segment: string): string {
  // Graph accepts function calls with and without parentheses (`delta` and `delta()`).
  return segment.toLowerCase().replace(/\(\)$/, '');
}

function match(parts: string[], segments: string[]): Record<string, string> | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].startsWith(':')) params[parts[i].slice(1)] = segments[i];
    else if (literal(parts[i]) !== literal(segments[i])) return undefined;
  }
  return params;
}

/** Graph names the first segment it could not make sense of. */
function firstUnknownSegment(routes: { parts: string[] }[], segments: string[]): string {
  for (let i = 0; i < segments.length; i++) {
    const known = routes.some(
      ({ parts }) =>
        parts.length > i &&
        parts.slice(0, i + 1).every((p, j) => p.startsWith(':') || literal(p) === literal(segments[j])),
    );
    if (!known) return segments[i];
  }
  return segments[segments.length - 1] ?? '';
}
