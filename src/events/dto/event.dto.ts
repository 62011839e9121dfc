import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
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
import type { EventEntity } from '../entities/event.entity.js';
import { EVENT_SOURCES, EVENT_TYPES, type EventSource, type EventType } from '../event-types.js';

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

/** How every family's `data.source` is described. */
const EVENT_SOURCE_DOC =
  'What made the change: `manual` (a person or an API key), `sign_in`, `sync` (the directory sync), `scim`, ' +
  '`assignment` (tenant user assignment) or `system` (the service itself, as a consequence of another change: ' +
  'the seat queue moving when a seat was freed).';

/**
 * Every family's `data.source`: one of EVENT_SOURCES, described once, with this family's `example` and, when it
 * says more, `more` after the common description.
 */
export function ApiEventSource(example: EventSource, more?: string): PropertyDecorator {
  const description = more ? `${EVENT_SOURCE_DOC} ${more}` : EVENT_SOURCE_DOC;
  return ApiProperty({ enum: EVENT_SOURCES, enumName: 'EventSource', description, example });
}

/**
 * The schema of `data` of each family, by name. Each module that writes a family documents its `data` next to
 * its own response DTOs (`UserEventDataDto` in users/, `SyncEventDataDto` in deprovisioning/, ...), and the
 * composition root registers them with the document (`EVENT_DATA_DTOS`): the events module, which every module
 * writes to, depends on none of them.
 */
export const EVENT_DATA_SCHEMAS = [
  'UserEventDataDto',
  'InvitationEventDataDto',
  'IntegrationEventDataDto',
  'SyncEventDataDto',
  'TenantAssignmentEventDataDto',
  'ScimTokenEventDataDto',
  'ScimSettingsEventDataDto',
] as const;
export type EventDataSchema = (typeof EVENT_DATA_SCHEMAS)[number];

function dataSchemaOf(type: EventType): EventDataSchema {
  if (type.startsWith('user.')) return 'UserEventDataDto';
  if (type.startsWith('invitation.')) return 'InvitationEventDataDto';
  if (type.startsWith('integration.')) return 'IntegrationEventDataDto';
  if (type.startsWith('tenant_assignment.')) return 'TenantAssignmentEventDataDto';
  if (type === 'scim.token_created' || type === 'scim.token_revoked') return 'ScimTokenEventDataDto';
  if (type.startsWith('scim.')) return 'ScimSettingsEventDataDto';
  return 'SyncEventDataDto';
}

/** Which `data` schema each type carries (version 1 of each). */
export const EVENT_DATA_SCHEMA: Record<EventType, EventDataSchema> = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, dataSchemaOf(type)]),
) as Record<EventType, EventDataSchema>;

const TYPE_TABLE = EVENT_TYPES.map((type) => `- \`${type}\` (v1): \`${EVENT_DATA_SCHEMA[type]}\``).join('\n');

/** The envelope of the feed and of every webhook body (the Standard Webhooks payload shape). */
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
    oneOf: EVENT_DATA_SCHEMAS.map((schema) => ({ $ref: getSchemaPath(schema) })),
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
