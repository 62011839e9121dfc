import { describe, expect, it } from 'vitest';
import { retryDelayS } from './graph-http.js';

describe('retryDelayS (how long a throttled Graph request waits)', () => {
  it('honours Retry-After in seconds, fractions included', () => {
    expect(retryDelayS('7', 1)).toBe(7);
    expect(retryDelayS('0.2', 3)).toBe(0.2);
  });

  it('honours Retry-After as an HTTP date', () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(retryDelayS(inTenSeconds, 1)).toBeGreaterThanOrEqual(9);
    expect(retryDelayS(inTenSeconds, 1)).toBeLessThanOrEqual(10);
    expect(retryDelayS(new Date(Date.now() - 60_000).toUTCString(), 1)).toBe(0);
  });

  it('backs off exponentially (with jitter) without a Retry-After, as the Graph SDK does', () => {
    for (const header of [undefined, '', 'soon']) {
      expect(retryDelayS(header, 1)).toBeGreaterThanOrEqual(3);
      expect(retryDelayS(header, 1)).toBeLessThan(4);
    }
    expect(retryDelayS(undefined, 2)).toBeGreaterThanOrEqual(5); // round(0.5 × 3) + 3
    expect(retryDelayS(undefined, 3)).toBeGreaterThanOrEqual(7); // round(0.5 × 7) + 3
  });

  it('never waits longer than 180 s, whatever Graph asks', () => {
    expect(retryDelayS('86400', 1)).toBe(180);
  });
});
