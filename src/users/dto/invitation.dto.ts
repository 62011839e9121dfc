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
  @ApiProperty({ example: 'new.hire@contoso.com', maxLength: 320 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsEmail({ require_tld: false })
  @MaxLength(320)
  email: string;

  @ApiProperty({ enum: ROLES, enumName: 'Role', description: 'Only an owner can invite an owner.' })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({
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
  @ApiPropertyOptional({ enum: INVITATION_STATUSES, enumName: 'InvitationStatus' })
  @IsOptional()
  @IsIn(INVITATION_STATUSES)
  status?: InvitationStatus;
}

export class InvitationResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'new.hire@contoso.com' })
  email: string;

  @ApiProperty({ enum: ROLES, enumName: 'Role' })
  role: Role;

  @ApiProperty({ enum: INVITATION_STATUSES, enumName: 'InvitationStatus' })
  status: InvitationStatus;

  @ApiProperty({ nullable: true, type: String, format: 'uuid' })
  invitedByUserId: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'The user the invitation became.',
  })
  acceptedByUserId: string | null;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class InvitationPageDto extends PageInfoDto {
  @ApiProperty({ type: [InvitationResponseDto] })
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
