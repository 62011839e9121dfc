/** Emitted after a deactivation commits; listeners end whatever access the user still holds. */
export const USER_DEACTIVATED = 'user.deactivated';

export interface UserDeactivatedEvent {
  userId: string;
  organizationId: string;
  reason: string;
  /**
   * Users waiting for a seat when the deactivation held the organization lock: 0 means there is no seat queue
   * to move (an arrival after the commit sees the freed seat itself).
   */
  seatQueueLength?: number;
}

/** Emitted after a directory sync deactivated several users at once. */
export const USERS_DEACTIVATED = 'users.deactivated';

export interface UsersDeactivatedEvent {
  userIds: string[];
  organizationId: string;
  reason: string;
}
