import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageInfoDto, PageQueryDto } from '../../common/pagination.js';
import { ACTOR_TYPES, type ActorType, type AuditEventEntity } from '../entities/audit-event.entity.js';

export class ListAuditEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'user.deactivated', description: 'Only events with this action.' })
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
  @ApiProperty({ enum: ACTOR_TYPES })
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
  @ApiProperty({ example: 'user' })
  type: string;

  @ApiProperty({ example: '3f0c7b1e-2a55-4a6b-9c1d-8f1e2d3c4b5a' })
  id: string;
}

export class AuditEventResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'user.role_changed' })
  action: string;

  @ApiProperty({ type: AuditActorDto })
  actor: AuditActorDto;

  @ApiProperty({ type: AuditTargetDto, nullable: true })
  target: AuditTargetDto | null;

  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, example: { role: 'employee' } })
  before: Record<string, unknown> | null;

  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, example: { role: 'manager' } })
  after: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: String })
  requestId: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class AuditEventPageDto extends PageInfoDto {
  @ApiProperty({ type: [AuditEventResponseDto] })
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
