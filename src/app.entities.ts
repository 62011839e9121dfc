import { ApiKeyEntity } from './api-keys/entities/api-key.entity.js';
import { EventEntity } from './events/entities/event.entity.js';
import { WebhookDeliveryEntity } from './webhooks/entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from './webhooks/entities/webhook-endpoint.entity.js';
import { AuditEventEntity } from './audit/entities/audit-event.entity.js';
import { AuthFlowEntity } from './auth-flows/entities/auth-flow.entity.js';
import { InvitationChoiceEntity } from './auth/entities/invitation-choice.entity.js';
import { SessionEntity } from './sessions/entities/session.entity.js';
import { DomainClaimEntity } from './domain-claims/entities/domain-claim.entity.js';
import { DirectorySyncStateEntity } from './deprovisioning/entities/directory-sync-state.entity.js';
import { SyncRunOutcomeEntity } from './deprovisioning/entities/sync-run-outcome.entity.js';
import { SyncRunEntity } from './deprovisioning/entities/sync-run.entity.js';
import { EntraConnectionEntity } from './integrations/entities/entra-connection.entity.js';
import { GroupRoleMappingEntity } from './role-mapping/entities/group-role-mapping.entity.js';
import { InvitationEntity } from './users/entities/invitation.entity.js';
import { OrganizationEntity } from './organizations/entities/organization.entity.js';
import { DirectorySeenObjectEntity } from './users/entities/directory-seen-object.entity.js';
import { MicrosoftIdentityEntity } from './users/entities/microsoft-identity.entity.js';
import { UserEntity } from './users/entities/user.entity.js';
import { ScimUserEntity } from './scim/users/entities/scim-user.entity.js';
import { ScimGroupMemberEntity } from './scim/groups/entities/scim-group-member.entity.js';
import { ScimGroupEntity } from './scim/groups/entities/scim-group.entity.js';
import { TenantAssignmentEntity } from './tenant-assignment/entities/tenant-assignment.entity.js';
import { ScimRequestEntity } from './scim/access/entities/scim-request.entity.js';
import { ScimSettingsEntity } from './scim/access/entities/scim-settings.entity.js';
import { ScimTokenEntity } from './scim/access/entities/scim-token.entity.js';

/**
 * Every entity, listed once for the Nest app, the migration CLI and the tests. It names every module, so it
 * lives at the composition root, not in database/ (which any module may import).
 */
export const ENTITIES = [
  OrganizationEntity,
  UserEntity,
  MicrosoftIdentityEntity,
  SessionEntity,
  AuthFlowEntity,
  InvitationChoiceEntity,
  AuditEventEntity,
  EntraConnectionEntity,
  DomainClaimEntity,
  InvitationEntity,
  GroupRoleMappingEntity,
  SyncRunEntity,
  SyncRunOutcomeEntity,
  DirectorySyncStateEntity,
  DirectorySeenObjectEntity,
  ApiKeyEntity,
  EventEntity,
  WebhookEndpointEntity,
  WebhookDeliveryEntity,
  TenantAssignmentEntity,
  ScimTokenEntity,
  ScimSettingsEntity,
  ScimRequestEntity,
  ScimUserEntity,
  ScimGroupEntity,
  ScimGroupMemberEntity,
];
