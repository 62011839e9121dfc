import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { SyncRunResponseDto } from '../../deprovisioning/dto/sync-run.dto.js';
import { EntraIntegrationResponseDto } from '../../integrations/dto/entra-integration.dto.js';
import { ScimSettingsResponseDto } from '../../scim/access/dto/scim-status.dto.js';
import { ScimTokenResponseDto } from '../../scim/access/dto/scim-token.dto.js';
import { TenantAssignmentResponseDto } from '../../tenant-assignment/dto/tenant-assignment.dto.js';
import { InvitationResponseDto } from '../../users/dto/invitation.dto.js';
import { UserResponseDto } from '../../users/dto/user.dto.js';
import { ROLES } from '../../common/access.js';
import type { EventEntity } from '../entities/event.entity.js';
import { EVENT_SOURCES, EVENT_TYPES, type EventType } from '../event-types.js';

const commaList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
    : value;

export class ListEventsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 100, description: 'Page size.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({
    description:
      'Opaque cursor: the `nextCursor` of the previous page. Without it the feed starts at the oldest event kept ' +
      '(30 days).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  after?: string;

  @ApiPropertyOptional({
    description:
      'Only these event types, comma-separated (for example `user.deactivated,user.reactivated`); all types ' +
      'if absent.',
    type: String,
  })
  @IsOptional()
  @Transform(commaList)
  @IsArray()
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsIn(EVENT_TYPES, { each: true, message: `each of types must be one of: ${EVENT_TYPES.join(', ')}` })
  types?: EventType[];
}

const SOURCE_DOC =
  'What made the change: `manual` (a person or an API key), `sign_in`, `sync` (the directory sync), `scim`, ' +
  '`assignment` (tenant user assignment) or `system` (the service itself, as a consequence of another change: ' +
  'the seat queue moving when a seat was freed).';

/** `data` of every `user.*` event, version 1. */
export class UserEventDataDto {
  @ApiProperty({
    type: UserResponseDto,
    description: 'The user after the change, as `GET /api/v1/users/{id}`.',
  })
  user: UserResponseDto;

  @ApiProperty({ enum: EVENT_SOURCES, enumName: 'EventSource', description: SOURCE_DOC, example: 'manual' })
  source: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      'Why (`user.deactivated`: `manual`, `entra_account_disabled`, `entra_account_deleted`; `user.pending`: ' +
      '`awaiting_approval`, `awaiting_seat`; `user.activated`: `manual`, or `seat_freed:<cause>` with source ' +
      '`system` when the seat queue moved, for example `seat_freed:user_deactivated`).',
    example: 'entra_account_disabled',
  })
  reason?: string | null;

  @ApiPropertyOptional({
    enum: ROLES,
    enumName: 'Role',
    description: 'The role before (`user.role_changed`).',
    example: 'employee',
  })
  previousRole?: string;
}

/** `data` of every `invitation.*` event, version 1. */
export class InvitationEventDataDto {
  @ApiProperty({ type: InvitationResponseDto, description: 'The invitation after the change.' })
  invitation: InvitationResponseDto;

  @ApiProperty({ enum: EVENT_SOURCES, enumName: 'EventSource', description: SOURCE_DOC, example: 'manual' })
  source: string;
}

/** `data` of every `integration.*` event, version 1. */
export class IntegrationEventDataDto {
  @ApiProperty({
    type: EntraIntegrationResponseDto,
    description:
      'The integration after the change, as `GET /api/v1/integrations/entra` shows it (after a disconnect: ' +
      '`status` `not_connected`).',
  })
  integration: EntraIntegrationResponseDto;

  @ApiProperty({
    format: 'uuid',
    description: 'The Entra tenant connected, disconnected or needing reauthorization.',
    example: '7b3c9d4e-1a2f-4c5d-8e9f-0a1b2c3d4e5f',
  })
  tenantId: string;

  @ApiProperty({
    enum: ['connected', 'disconnected', 'reauthorization_required'],
    description: 'What happened to the connection (the event type without its family).',
    example: 'connected',
  })
  status: string;

  @ApiProperty({ enum: EVENT_SOURCES, enumName: 'EventSource', description: SOURCE_DOC, example: 'manual' })
  source: string;
}

/** `data` of every `sync.*` event, version 1. */
export class SyncEventDataDto {
  @ApiProperty({
    type: SyncRunResponseDto,
    description: 'The run as `GET /api/v1/integrations/entra/sync-runs/{id}` shows it.',
  })
  run: SyncRunResponseDto;

  @ApiProperty({ enum: EVENT_SOURCES, enumName: 'EventSource', description: SOURCE_DOC, example: 'sync' })
  source: string;
}

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
    description: `${SOURCE_DOC} \`tenant_assignment.verified\`: \`assignment\` (a tenant administrator's fresh sign-in); updated and disabled: \`manual\`.`,
    example: 'assignment',
  })
  source: string;
}

/** `data` of `scim.token_created` and `scim.token_revoked`, version 1. */
export class ScimTokenEventDataDto {
  @ApiProperty({
    type: ScimTokenResponseDto,
    description:
      'The token as `GET /api/v1/integrations/scim` lists it (never the secret itself); after a revocation, ' +
      'as it stood when revoked.',
  })
  token: ScimTokenResponseDto;

  @ApiProperty({ enum: EVENT_SOURCES, enumName: 'EventSource', description: SOURCE_DOC, example: 'manual' })
  source: string;
}

/** `data` of `scim.enabled` and `scim.disabled`, version 1. */
export class ScimSettingsEventDataDto {
  @ApiProperty({
    type: ScimSettingsResponseDto,
    description: 'The SCIM settings after the change, as `PATCH /api/v1/integrations/scim/settings` answers.',
  })
  settings: ScimSettingsResponseDto;

  @ApiProperty({ enum: EVENT_SOURCES, enumName: 'EventSource', description: SOURCE_DOC, example: 'manual' })
  source: string;
}

const DATA_SCHEMAS = [
  UserEventDataDto,
  InvitationEventDataDto,
  IntegrationEventDataDto,
  SyncEventDataDto,
  TenantAssignmentEventDataDto,
  ScimTokenEventDataDto,
  ScimSettingsEventDataDto,
];

function dataSchemaOf(type: EventType): string {
  if (type.startsWith('user.')) return 'UserEventDataDto';
  if (type.startsWith('invitation.')) return 'InvitationEventDataDto';
  if (type.startsWith('integration.')) return 'IntegrationEventDataDto';
  if (type.startsWith('tenant_assignment.')) return 'TenantAssignmentEventDataDto';
  if (type === 'scim.token_created' || type === 'scim.token_revoked') return 'ScimTokenEventDataDto';
  if (type.startsWith('scim.')) return 'ScimSettingsEventDataDto';
  return 'SyncEventDataDto';
}

/** Which `data` schema each type carries (version 1 of each). */
export const EVENT_DATA_SCHEMA: Record<EventType, string> = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, dataSchemaOf(type)]),
) as Record<EventType, string>;

const TYPE_TABLE = EVENT_TYPES.map((type) => `- \`${type}\` (v1): \`${EVENT_DATA_SCHEMA[type]}\``).join('\n');

/** The envelope of the feed and of every webhook body (the Standard Webhooks payload shape). */
@ApiExtraModels(...DATA_SCHEMAS)
export class EventDto {
  @ApiProperty({
    format: 'uuid',
    description: 'Unique per event; also the `webhook-id` of its deliveries. Deduplicate on it.',
    example: '0b9f3a52-6c1d-4e8a-9f27-3d5b8c1e4a60',
  })
  id: string;

  @ApiProperty({
    enum: EVENT_TYPES,
    enumName: 'EventType',
    description: 'What happened; it decides the schema of `data`.',
    example: 'user.deactivated',
  })
  type: EventType;

  @ApiProperty({
    format: 'date-time',
    description: 'When the change committed.',
    example: '2026-12-01T03:00:12.345Z',
  })
  timestamp: string;

  @ApiProperty({
    description: `What changed; the schema depends on \`type\` (schema version 1 of each):\n${TYPE_TABLE}`,
    oneOf: DATA_SCHEMAS.map((schema) => ({ $ref: getSchemaPath(schema) })),
  })
  data: Record<string, unknown>;
}

export class EventPageDto {
  @ApiProperty({ type: [EventDto], description: 'Oldest first.' })
  items: EventDto[];

  @ApiProperty({
    description:
      'Pass as `after` to poll for what follows; the same cursor again when nothing new has happened yet.',
    example: 'c2VxOjQy',
    nullable: true,
    type: String,
  })
  nextCursor: string | null;

  @ApiProperty({
    description: 'Whether more events follow right away (fetch again without waiting).',
    example: false,
  })
  hasMore: boolean;
}

export function toEventResponse(event: EventEntity): EventDto {
  return {
    id: event.id,
    type: event.type as EventType,
    timestamp: event.createdAt.toISOString(),
    data: event.data,
  };
}
