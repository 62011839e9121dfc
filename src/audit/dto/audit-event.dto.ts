import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageInfoDto, PageQueryDto } from '../../common/pagination.js';
import { ACTOR_TYPES, type ActorType, type AuditEventEntity } from '../entities/audit-event.entity.js';

export class ListAuditEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only events with this action, e.g. `user.deactivated`.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only events about this target (e.g. a user id).' })
  @IsOptional()
  @IsUUID()
  targetId?: string;
}

export class AuditActorDto {
  @ApiProperty({
    enum: ACTOR_TYPES,
    example: 'user',
    description: 'Who acted: a user, or the system (sync, CLI).',
  })
  type: ActorType;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'The acting user; null for the system.',
  })
  id: string | null;
}

export class AuditTargetDto {
  @ApiProperty({ example: 'user', description: 'What kind of thing the event is about.' })
  type: string;

  @ApiProperty({ example: '3f0c7b1e-2a55-4a6b-9c1d-8f1e2d3c4b5a', description: 'Its id.' })
  id: string;
}

export class AuditEventResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The event id.' })
  id: string;

  @ApiProperty({ example: 'user.role_changed', description: 'What happened, as `module.verb`.' })
  action: string;

  @ApiProperty({ type: AuditActorDto, description: 'Who did it.' })
  actor: AuditActorDto;

  @ApiProperty({ type: AuditTargetDto, nullable: true, description: 'What it was done to, if anything.' })
  target: AuditTargetDto | null;

  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    example: { role: 'employee' },
    description: 'The changed fields before the change (never secrets).',
  })
  before: Record<string, unknown> | null;

  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    example: { role: 'manager' },
    description: 'The changed fields after the change (never secrets).',
  })
  after: Record<string, unknown> | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: '5b0d3e7a-1c2f-4a8b-9d6e-0f1a2b3c4d5e',
    description: 'The `x-request-id` of the request that caused it; null for background work.',
  })
  requestId: string | null;

  @ApiProperty({ format: 'date-time', description: 'When it happened.' })
  createdAt: string;
}

export class AuditEventPageDto extends PageInfoDto {
  @ApiProperty({ type: [AuditEventResponseDto], description: 'The events of this page, newest first.' })
  items: AuditEventResponseDto[];
}

export function toAuditEventResponse(event: AuditEventEntity): AuditEventResponseDto {
  return {
    id: event.id,
    action: event.action,
    actor: { type: event.actorType, id: event.actorId },
    target: event.targetType && event.targetId ? { type: event.targetType, id: event.targetId } : null,
    before: event.before,
    after: event.after,
    requestId: event.requestId,
    createdAt: event.createdAt.toISOString(),
  };
}
