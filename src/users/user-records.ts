/**
 * The user and invitation records the users and invitations services hand to other modules. Named here so that
 * no other module imports the entities themselves (the boundary check enforces it).
 */
export type { UserEntity as User } from './entities/user.entity.js';
export type { InvitationEntity as Invitation } from './entities/invitation.entity.js';
