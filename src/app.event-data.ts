import { SyncEventDataDto } from './deprovisioning/dto/sync-event-data.dto.js';
import { IntegrationEventDataDto } from './integrations/dto/integration-event-data.dto.js';
import { ScimSettingsEventDataDto, ScimTokenEventDataDto } from './scim/access/dto/scim-event-data.dto.js';
import { TenantAssignmentEventDataDto } from './tenant-assignment/dto/tenant-assignment-event-data.dto.js';
import { InvitationEventDataDto, UserEventDataDto } from './users/dto/user-event-data.dto.js';

/**
 * The `data` schema of every event family, registered with the OpenAPI document: `EventDto.data` names them
 * (`EVENT_DATA_SCHEMAS`), and each lives in the module that writes the family. It names every such module, so
 * it lives at the composition root, not in events/ (which every module writes to).
 */
export const EVENT_DATA_DTOS = [
  UserEventDataDto,
  InvitationEventDataDto,
  IntegrationEventDataDto,
  SyncEventDataDto,
  TenantAssignmentEventDataDto,
  ScimTokenEventDataDto,
  ScimSettingsEventDataDto,
];
