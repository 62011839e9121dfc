export const MSA_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export const ROLE = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  applicationAdministrator: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
  globalReader: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  /** Roles that administer users but may not grant consent. */
  helpdeskAdministrator: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  /** Default role every member holds; real tokens carry it in `wids`. */
  user: 'b79fbf4d-3ef9-4689-8143-76b194e85509',
  /** Default role of guests. */
  guestUser: '10dae51f-b6af-4016-8d66-8c2a99b929b3',
} as const;

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** Scopes that belong to OpenID Connect itself rather than to a resource. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/** Graph delegated permissions that only an administrator can grant (lower-cased). */
export const ADMIN_CONSENT_SCOPES = new Set([
  'user.read.all',
  'user.readwrite.all',
  'group.read.all',
  'group.readwrite.all',
  'groupmember.read.all',
  'groupmember.readwrite.all',
  'directory.read.all',
  'directory.readwrite.all',
]);

/** Roles allowed to grant tenant-wide consent to anything, application permissions included. */
export const FULL_CONSENT_ROLES = [ROLE.globalAdministrator, ROLE.privilegedRoleAdministrator];
/** Roles allowed to grant tenant-wide consent to delegated permissions only. */
export const DELEGATED_CONSENT_ROLES = [ROLE.applicationAdministrator, ROLE.cloudApplicationAdministrator];

export const GROUPS_OVERAGE_LIMIT = 200;

export const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const ACCESS_TOKEN_LIFETIME_S = 3599;
export const ID_TOKEN_LIFETIME_S = 3600;
/** Entra's inactivity window for refresh tokens. */
export const REFRESH_TOKEN_INACTIVITY_MS = 90 * 24 * 3600 * 1000;
