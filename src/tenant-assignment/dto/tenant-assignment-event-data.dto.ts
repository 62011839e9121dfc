import { ApiProperty } from '@nestjs/swagger';
import { EVENT_SOURCE_DOC } from '../../events/dto/event.dto.js';
import { EVENT_SOURCES } from '../../events/event-types.js';
import { TenantAssignmentResponseDto } from './tenant-assignment.dto.js';

/** `data` of every `tenant_assignment.*` event, version 1. */
export class TenantAssignmentEventDataDto {
  @ApiProperty({
    type: TenantAssignmentResponseDto,
    description:
      'The tenant assignment after the change, as `GET /api/v1/tenant-assignment` shows it (after ' +
      '`tenant_assignment.disabled`: `status` `disabled`, no domains).',
  })
  assignment: TenantAssignmentResponseDto;

  @ApiProperty({
    type: [String],
    example: ['eu.acme.com'],
    description:
      'The domains the change took off the allowlist and released (`tenant_assignment.updated`, ' +
      '`tenant_assignment.disabled`; empty when none); `tenant_assignment.verified`: those the new allowlist ' +
      'no longer lists.',
  })
  removedDomains: string[];

  @ApiProperty({
    enum: EVENT_SOURCES,
    enumName: 'EventSource',
    description: `${EVENT_SOURCE_DOC} \`tenant_assignment.verified\`: \`assignment\` (a tenant administrator's fresh sign-in); updated and disabled: \`manual\`.`,
    example: 'assignment',
  })
  source: string;
}
