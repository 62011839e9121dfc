import { ApiProperty } from '@nestjs/swagger';
import { ApiEventSource } from '../../events/dto/event.dto.js';
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

  @ApiEventSource(
    'assignment',
    "`tenant_assignment.verified`: `assignment` (a tenant administrator's fresh sign-in); updated and disabled: `manual`.",
  )
  source: string;
}
