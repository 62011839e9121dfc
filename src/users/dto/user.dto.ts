import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageInfoDto, PageQueryDto } from '../../common/pagination.js';
import type { IdentitySummary } from '../caller-profile.js';
import {
  PENDING_REASONS,
  type PendingReason,
  type Role,
  ROLE_SOURCES,
  type RoleSource,
  ROLES,
  type UserEntity,
  type UserStatus,
  USER_STATUSES,
} from '../entities/user.entity.js';

/** Why a user was deactivated: by an admin, or by the directory sync (the sync's own reasons). */
export const USER_DEACTIVATION_REASONS = [
  'manual',
  'entra_account_disabled',
  'entra_account_deleted',
  'scim_deactivated',
  'scim_deleted',
] as const;

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: USER_STATUSES,
    enumName: 'UserStatus',
    description: 'Only users in this status.',
  })
  @IsOptional()
  @IsIn(USER_STATUSES)
  status?: UserStatus;

  @ApiPropertyOptional({ enum: ROLES, enumName: 'Role', description: 'Only users with this role.' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({
    description:
      'Case-insensitive substring of the email or the display name (`%` and `_` match themselves), at least 3 ' +
      'characters after trimming (a shorter one is 400 `SEARCH_TERM_TOO_SHORT`; an empty one searches nothing). ' +
      'Served by trigram indexes; a term most users match is answered by reading the list in order.',
    minLength: 3,
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  search?: string;
}

export class UpdateUserDto {
  @ApiProperty({
    enum: ROLES,
    enumName: 'Role',
    example: 'manager',
    description: 'The new role. Only an owner can grant or remove `owner`.',
  })
  @IsIn(ROLES)
  role: Role;
}

export class MicrosoftIdentityDto {
  @ApiProperty({ format: 'uuid', description: 'Entra tenant id (`tid`).' })
  tenantId: string;

  @ApiProperty({ format: 'uuid', description: 'Entra object id of the user (`oid`).' })
  objectId: string;

  @ApiProperty({ example: 'megan@contoso.com', description: 'Their sign-in name in Entra (UPN).' })
  userPrincipalName: string;
}

export class RoleSourceGroupDto {
  @ApiProperty({ format: 'uuid', description: 'Entra group object id.' })
  id: string;

  @ApiProperty({ example: 'IT Admins', description: 'The group’s display name.' })
  displayName: string;
}

export class UserResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The user id.' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'Their organization.' })
  organizationId: string;

  @ApiProperty({ example: 'megan@contoso.com', description: 'Their email address (lower-case).' })
  email: string;

  @ApiProperty({ example: 'Megan Bowen', description: 'Their name, from Microsoft at the last sign-in.' })
  displayName: string;

  @ApiProperty({
    enum: ROLES,
    enumName: 'Role',
    example: 'employee',
    description: 'Their role in the organization.',
  })
  role: Role;

  @ApiProperty({
    enum: ROLE_SOURCES,
    enumName: 'RoleSource',
    example: 'default',
    description:
      'Why the user has this role: `default` (Employee, or the creator of the organization), `group_mapping` (an ' +
      'Entra group mapping decided it at the last sign-in), `invitation`, or `manual` (set by an admin).',
  })
  roleSource: RoleSource;

  @ApiProperty({
    type: RoleSourceGroupDto,
    nullable: true,
    example: null,
    description: 'The deciding group, for `group_mapping`.',
  })
  roleSourceGroup: RoleSourceGroupDto | null;

  @ApiProperty({
    enum: USER_STATUSES,
    enumName: 'UserStatus',
    example: 'active',
    description:
      '`active` users hold a seat; `pending` users hold none and cannot sign in yet (see `pendingReason`); ' +
      '`deactivated` users neither.',
  })
  status: UserStatus;

  @ApiProperty({
    // Inline rather than a named schema: OpenAPI 3.0 cannot mark a $ref nullable.
    type: 'string',
    enum: PENDING_REASONS,
    nullable: true,
    example: 'awaiting_seat',
    description:
      'Why a pending user is not active yet: `awaiting_approval` (an Owner or Admin must activate them) or ' +
      '`awaiting_seat` (queued until a seat frees, first in first out). Null unless `status` is `pending`.',
  })
  pendingReason: PendingReason | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 2,
    minimum: 1,
    description:
      'Place in the organization’s seat queue (1 gets the next free seat); null unless `pendingReason` is ' +
      '`awaiting_seat`.',
  })
  queuePosition: number | null;

  @ApiProperty({
    nullable: true,
    type: String,
    enum: USER_DEACTIVATION_REASONS,
    example: null,
    description:
      'Why the user was deactivated: `manual` (by an admin), `entra_account_disabled` or `entra_account_deleted` ' +
      '(by the directory sync), `scim_deactivated` (SCIM `active: false`) or `scim_deleted` (SCIM DELETE); null ' +
      'while active.',
  })
  deactivationReason: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: null,
    description: 'When they were deactivated; null while active.',
  })
  deactivatedAt: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-01T08:45:00.000Z',
    description: 'Their latest Microsoft sign-in; null if they never signed in.',
  })
  lastSignInAt: string | null;

  @ApiProperty({ format: 'date-time', description: 'When the user was created.' })
  createdAt: string;
}

export class UserPageDto extends PageInfoDto {
  @ApiProperty({ type: [UserResponseDto], description: 'The users of this page, oldest first.' })
  items: UserResponseDto[];
}

export class MeResponseDto extends UserResponseDto {
  @ApiProperty({ type: [MicrosoftIdentityDto], description: 'The Microsoft accounts linked to this user.' })
  microsoftIdentities: MicrosoftIdentityDto[];
}

/**
 * A user's fields as every user answer shows them, timestamps already as `Date#toISOString` text (UTC, to the
 * millisecond): what the users list reads straight from SQL, so a page parses no timestamp and builds no entity.
 */
export interface UserRow {
  id: string;
  organizationId: string;
  email: string;
  displayName: string;
  role: Role;
  roleSource: RoleSource;
  roleSourceGroupId: string | null;
  roleSourceGroupName: string | null;
  status: UserStatus;
  pendingReason: PendingReason | null;
  deactivationReason: string | null;
  deactivatedAt: string | null;
  lastSignInAt: string | null;
  createdAt: string;
}

/** The one mapping of a user to its answer, for the list's rows and (through `toUserResponse`) for entities. */
export function toUserRowResponse(user: UserRow, queuePosition: number | null = null): UserResponseDto {
  return {
    id: user.id,
    organizationId: user.organizationId,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    roleSource: user.roleSource,
    roleSourceGroup:
      user.roleSource === 'group_mapping' && user.roleSourceGroupId
        ? { id: user.roleSourceGroupId, displayName: user.roleSourceGroupName ?? '' }
        : null,
    status: user.status,
    pendingReason: user.status === 'pending' ? user.pendingReason : null,
    queuePosition: user.status === 'pending' && user.pendingReason === 'awaiting_seat' ? queuePosition : null,
    deactivationReason: user.deactivationReason,
    deactivatedAt: user.deactivatedAt,
    lastSignInAt: user.lastSignInAt,
    createdAt: user.createdAt,
  };
}

export function toUserResponse(user: UserEntity, queuePosition: number | null = null): UserResponseDto {
  return toUserRowResponse(
    {
      id: user.id,
      organizationId: user.organizationId,
      email: user.email,
      displayName: user.displayName,
      role: user.role,
      roleSource: user.roleSource,
      roleSourceGroupId: user.roleSourceGroupId,
      roleSourceGroupName: user.roleSourceGroupName,
      status: user.status,
      pendingReason: user.pendingReason,
      deactivationReason: user.deactivationReason,
      deactivatedAt: user.deactivatedAt?.toISOString() ?? null,
      lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
      createdAt: user.createdAt.toISOString(),
    },
    queuePosition,
  );
}

export function toMeResponse(user: UserEntity, identities: IdentitySummary[]): MeResponseDto {
  return {
    ...toUserResponse(user),
    microsoftIdentities: identities.map((i) => ({
      tenantId: i.tenantId,
      objectId: i.objectId,
      userPrincipalName: i.userPrincipalName,
    })),
  };
}
