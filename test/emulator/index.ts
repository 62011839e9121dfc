export { ensureCertificates, type CertificateBundle } from './certificates.js';
export { MSA_TENANT_ID, ROLE } from './constants.js';
export { DEMO, demoFixture, makeGroup, makeUser } from './fixture.js';
export { startEntraEmulator, type EntraEmulator, type StartOptions } from './server.js';
export {
  EmulatorInputError,
  EmulatorStore,
  type NewGroup,
  type NewTenant,
  type NewUser,
  type UserPatch,
} from './store.js';
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
