import { EmulatorInputError } from './errors.js';
import { definedOnly } from './fixture.js';
import type { FaultRule } from './types.js';

export interface GraphSettings {
  /** Added to every HTTP request to /v1.0 (a batch counts once). */
  latencyMs: number;
  /** Users per /users/delta page when the client sends no `Prefer: odata.maxpagesize`. */
  deltaPageSize: number;
}

export const DEFAULT_GRAPH_SETTINGS: GraphSettings = { latencyMs: 0, deltaPageSize: 100 };

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
    if (!Number.isInteger(next.deltaPageSize) || next.deltaPageSize < 1 || next.deltaPageSize > 999) {
      throw new EmulatorInputError('deltaPageSize must be a whole number from 1 to 999');
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
