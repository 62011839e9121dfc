import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES } from '../../common/access.js';
import { ApiEventSource } from '../../events/dto/event.dto.js';
import { InvitationResponseDto } from './invitation.dto.js';
import { UserResponseDto } from './user.dto.js';

/** `data` of every `user.*` event, version 1. */
export class UserEventDataDto {
  @ApiProperty({
    type: UserResponseDto,
    description: 'The user after the change, as `GET /api/v1/users/{id}`.',
  })
  user: UserResponseDto;

  @ApiEventSource('manual')
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

  @ApiEventSource('manual')
  source: string;
}
