import { EmulatorInputError } from './errors.js';
import { definedOnly } from './fixture.js';
import type { FaultRule } from './types.js';

export interface GraphSettings {
  /** Added to every HTTP request to /v1.0 (a batch counts once). */
  latencyMs: number;
  /**
   * Users per /users/delta page when the client sends no `Prefer: odata.maxpagesize`; at most
   * MAX_DELTA_PAGE_SIZE, Graph's cap for user objects (see graph-delta.ts).
   */
  deltaPageSize: number;
  /** Graph's resource-unit throttling of the identity service (see graph-throttling.ts); on by default. */
  throttling: boolean;
  /**
   * The application+tenant pair's budget in resource units per 10 seconds; null means Graph's own, which
   * depends on the tenant's size (3,500 / 5,000 / 8,000).
   */
  resourceUnitsPer10s: number | null;
}

/**
 * Graph caps `/users/delta` pages at 200 user objects whatever `Prefer: odata.maxpagesize` asks for, and
 * sends 200 when none is asked for (Microsoft's answer on Microsoft Q&A, "contact: delta API what limit
 * can we use for odata.maxpagesize", https://learn.microsoft.com/en-us/answers/a/2052165: "200 for
 * objects, such as users and contacts ... Even if a higher value is specified, the API will cap the page
 * size to these limits").
 */
export const MAX_DELTA_PAGE_SIZE = 200;

export const DEFAULT_GRAPH_SETTINGS: GraphSettings = {
  latencyMs: 0,
  deltaPageSize: MAX_DELTA_PAGE_SIZE,
  throttling: true,
  resourceUnitsPer10s: null,
};

/** Injected faults, Graph latency and paging, the Graph request counter, and the delta-token generation. */
export class GraphControls {
  private faults: FaultRule[] = [];
  private settings: GraphSettings = { ...DEFAULT_GRAPH_SETTINGS };
  private requests = 0;
  private deltaGeneration = 0;

  /** Back to defaults. The delta generation moves on instead, so tokens from before cannot be honoured. */
  reset(): void {
    this.faults = [];
    this.settings = { ...DEFAULT_GRAPH_SETTINGS };
    this.requests = 0;
    this.deltaGeneration++;
  }

  get graphSettings(): Readonly<GraphSettings> {
    return this.settings;
  }

  get activeFaults(): readonly FaultRule[] {
    return this.faults;
  }

  addFault(rule: FaultRule): void {
    this.faults.push({ times: 1, ...rule });
  }

  clearFaults(): void {
    this.faults = [];
  }

  takeFault(method: string, path: string): FaultRule | undefined {
    const rule = this.faults.find(
      (f) =>
        (!f.method || f.method.toUpperCase() === method.toUpperCase()) &&
        (typeof f.path === 'string' ? path.startsWith(f.path) : f.path.test(path)),
    );
    if (!rule) return undefined;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.faults = this.faults.filter((f) => f !== rule);
    return rule;
  }

  countGraphRequest(): void {
    this.requests++;
  }

  get graphRequestCount(): number {
    return this.requests;
  }

  resetGraphRequestCount(): void {
    this.requests = 0;
  }

  updateGraphSettings(patch: Partial<GraphSettings>): GraphSettings {
    const next = { ...this.settings, ...definedOnly(patch) };
    if (!Number.isFinite(next.latencyMs) || next.latencyMs < 0) {
      throw new EmulatorInputError('latencyMs must be a non-negative number');
    }
    if (
      !Number.isInteger(next.deltaPageSize) ||
      next.deltaPageSize < 1 ||
      next.deltaPageSize > MAX_DELTA_PAGE_SIZE
    ) {
      throw new EmulatorInputError(`deltaPageSize must be a whole number from 1 to ${MAX_DELTA_PAGE_SIZE}`);
    }
    if (typeof next.throttling !== 'boolean')
      throw new EmulatorInputError('throttling must be true or false');
    if (
      next.resourceUnitsPer10s !== null &&
      (!Number.isInteger(next.resourceUnitsPer10s) || next.resourceUnitsPer10s < 1)
    ) {
      throw new EmulatorInputError('resourceUnitsPer10s must be a positive whole number or null');
    }
    this.settings = next;
    return { ...next };
  }

  get deltaTokenGeneration(): number {
    return this.deltaGeneration;
  }

  /** After a restart: the generation the saved delta tokens carry, so they stay valid. */
  restoreDeltaTokenGeneration(generation: number): void {
    this.deltaGeneration = generation;
  }

  expireDeltaTokens(): void {
    this.deltaGeneration++;
  }
}
