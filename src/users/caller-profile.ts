import type { MicrosoftIdentityEntity } from './entities/microsoft-identity.entity.js';
import type { UserEntity } from './entities/user.entity.js';

/** What the caller's profile holds of a linked Microsoft account. */
export type IdentitySummary = Pick<
  MicrosoftIdentityEntity,
  'tenantId' | 'objectId' | 'userPrincipalName' | 'lastSignInAt'
>;

/** The signed-in user and their linked Microsoft accounts (oldest first), as `GET /me` answers them. */
export class CallerProfile {
  constructor(
    readonly user: UserEntity,
    readonly identities: IdentitySummary[],
  ) {}
}
