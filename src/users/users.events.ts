/** Emitted after a deactivation commits; listeners end whatever access the user still holds. */
export const USER_DEACTIVATED = 'user.deactivated';

export interface UserDeactivatedEvent {
  userId: string;
  organizationId: string;
  reason: string;
}
