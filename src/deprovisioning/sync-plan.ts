import type { UserStatus } from '../users/users.types.js';
import type { DeactivationReason } from './entities/sync-run-outcome.entity.js';

/**
 * How many deactivations a run may apply without approval: the larger of an absolute count and a share of
 * the linked active users (like Entra's "prevent accidental deletions").
 */
export function deactivationLimit(
  linkedActiveUsers: number,
  threshold: { count: number; percent: number },
): number {
  return Math.max(threshold.count, Math.floor((linkedActiveUsers * threshold.percent) / 100));
}

export type Verdict =
  | { action: 'deactivate'; reason: DeactivationReason }
  | { action: 'already_deactivated' }
  | { action: 'none' };

/**
 * What the directory's word means for one linked user. Only a disabled account or a deletion confirmed by
 * Graph (404) deactivates; an enabled account never reactivates anyone (reactivation stays a human decision).
 */
export function verdictFor(state: 'enabled' | 'disabled' | 'deleted', localStatus: UserStatus): Verdict {
  if (state === 'enabled') return { action: 'none' };
  if (localStatus === 'deactivated') return { action: 'already_deactivated' };
  if (localStatus !== 'active') return { action: 'none' };
  return {
    action: 'deactivate',
    reason: state === 'disabled' ? 'entra_account_disabled' : 'entra_account_deleted',
  };
}
