export { ensureCertificates, type CertificateBundle } from './certificates.js';
export { MSA_TENANT_ID, ROLE } from './constants.js';
export { DEMO, demoFixture, makeGroup, makeUser } from './fixture.js';
export { directoryRoleId } from './graph-groups.js';
export { startEntraEmulator, type EntraEmulator, type StartOptions } from './server.js';
export {
  DEFAULT_GRAPH_SETTINGS,
  EmulatorInputError,
  EmulatorStore,
  type GenerateUsersOptions,
  type GraphSettings,
  type NewGroup,
  type NewTenant,
  type NewUser,
  type UserPatch,
} from './store.js';
export type { Tombstone } from './user-directory.js';
export type {
  AuthorizationCode,
  ConsentDecision,
  ConsentGrant,
  EmulatorClient,
  EmulatorFixture,
  FaultRule,
  Group,
  IdTokenOverride,
  Membership,
  RefreshToken,
  SignatureMode,
  Tenant,
  User,
  UserType,
  VerifiedDomain,
} from './types.js';
