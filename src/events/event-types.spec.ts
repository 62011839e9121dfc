import { describe, expect, it } from 'vitest';
import { isEventTypePattern, matchesEventType } from './event-types.js';

describe('event type patterns', () => {
  it('matches exact types, families and everything', () => {
    expect(matchesEventType('user.deactivated', 'user.deactivated')).toBe(true);
    expect(matchesEventType('user.*', 'user.role_changed')).toBe(true);
    expect(matchesEventType('user.*', 'users.deactivated')).toBe(false);
    expect(matchesEventType('*', 'sync.failed')).toBe(true);
    expect(matchesEventType('user.created', 'user.created.v2')).toBe(false);
  });

  it('accepts only patterns that can match a known type', () => {
    for (const ok of ['*', 'user.*', 'sync.failed', 'integration.*'])
      expect(isEventTypePattern(ok)).toBe(true);
    for (const bad of ['users.*', 'user.nope', 'user*', '', '.*', 'user.**'])
      expect(isEventTypePattern(bad), bad).toBe(false);
  });
});
