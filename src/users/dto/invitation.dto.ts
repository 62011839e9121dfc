import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsOptional, Max, MaxLength, Min } from 'class-validator';
import { PageInfoDto, PageQueryDto } from '../../common/pagination.js';
import {
  INVITATION_STATUSES,
  type InvitationEntity,
  type InvitationStatus,
} from '../entities/invitation.entity.js';
import { type Role, ROLES } from '../entities/user.entity.js';

export class CreateInvitationDto {
  @ApiProperty({
    example: 'new.hire@contoso.com',
    maxLength: 320,
    description: 'The address to invite: the invitation is accepted at the first Microsoft sign-in with it.',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsEmail({ require_tld: false })
  @MaxLength(320)
  email: string;

  @ApiProperty({
    enum: ROLES,
    enumName: 'Role',
    example: 'employee',
    description: 'The role they get. Only an owner can invite an owner.',
  })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({
    type: 'integer',
    example: 7,
    minimum: 1,
    maximum: 30,
    default: 7,
    description: 'Days until the invitation expires.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(30)
  expiresInDays?: number;
}

export class ListInvitationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: INVITATION_STATUSES,
    enumName: 'InvitationStatus',
    description: 'Only invitations in this status.',
  })
  @IsOptional()
  @IsIn(INVITATION_STATUSES)
  status?: InvitationStatus;
}

export class InvitationResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The invitation id.' })
  id: string;

  @ApiProperty({ example: 'new.hire@contoso.com', description: 'The invited address (lower-case).' })
  email: string;

  @ApiProperty({ enum: ROLES, enumName: 'Role', example: 'employee', description: 'The role offered.' })
  role: Role;

  @ApiProperty({
    enum: INVITATION_STATUSES,
    enumName: 'InvitationStatus',
    example: 'pending',
    description: 'Where the invitation stands.',
  })
  status: InvitationStatus;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'Who sent it; null once that user is gone.',
  })
  invitedByUserId: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    example: null,
    description: 'The user the invitation became; null until accepted.',
  })
  acceptedByUserId: string | null;

  @ApiProperty({ format: 'date-time', description: 'When it stops being accepted.' })
  expiresAt: string;

  @ApiProperty({ format: 'date-time', description: 'When it was sent.' })
  createdAt: string;
}

export class InvitationPageDto extends PageInfoDto {
  @ApiProperty({ type: [InvitationResponseDto], description: 'The invitations of this page, newest first.' })
  items: InvitationResponseDto[];
}

export function toInvitationResponse(invitation: InvitationEntity): InvitationResponseDto {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    status: invitation.status,
    invitedByUserId: invitation.invitedByUserId,
    acceptedByUserId: invitation.acceptedByUserId,
    expiresAt: invitation.expiresAt.toISOString(),
    createdAt: invitation.createdAt.toISOString(),
  };
}
