import { AuditEventEntity } from '../audit/entities/audit-event.entity.js';
import { AuthFlowEntity } from '../auth/entities/auth-flow.entity.js';
import { SessionEntity } from '../auth/entities/session.entity.js';
import { EntraConnectionEntity } from '../integrations/entities/entra-connection.entity.js';
import { OrganizationEntity } from '../organizations/entities/organization.entity.js';
import { MicrosoftIdentityEntity } from '../users/entities/microsoft-identity.entity.js';
import { UserEntity } from '../users/entities/user.entity.js';

/** Every entity, listed once for the Nest app, the migration CLI and the tests. */
export const ENTITIES = [
  OrganizationEntity,
  UserEntity,
  MicrosoftIdentityEntity,
  SessionEntity,
  AuthFlowEntity,
  AuditEventEntity,
  EntraConnectionEntity,
];
