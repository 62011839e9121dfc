import { describe, expect, it } from 'vitest';
import { deactivationLimit, verdictFor } from './sync-plan.js';

describe('deactivationLimit', () => {
  it('is the larger of the count and the percentage of linked active users', () => {
    expect(deactivationLimit(100, { count: 25, percent: 10 })).toBe(25);
    expect(deactivationLimit(1000, { count: 25, percent: 10 })).toBe(100);
    expect(deactivationLimit(100_000, { count: 25, percent: 10 })).toBe(10_000);
    expect(deactivationLimit(0, { count: 0, percent: 0 })).toBe(0);
  });
});

describe('verdictFor', () => {
  it('deactivates active users whose account is disabled or deleted, with the reason', () => {
    expect(verdictFor('disabled', 'active')).toEqual({
      action: 'deactivate',
      reason: 'entra_account_disabled',
    });
    expect(verdictFor('deleted', 'active')).toEqual({
      action: 'deactivate',
      reason: 'entra_account_deleted',
    });
  });

  it('leaves already deactivated users untouched and never reactivates', () => {
    expect(verdictFor('disabled', 'deactivated')).toEqual({ action: 'already_deactivated' });
    expect(verdictFor('enabled', 'deactivated')).toEqual({ action: 'none' });
    expect(verdictFor('enabled', 'active')).toEqual({ action: 'none' });
    expect(verdictFor('deleted', 'pending')).toEqual({ action: 'none' });
  });
});
