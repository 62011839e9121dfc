import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { GroupRoleMappingEntity } from '../entities/group-role-mapping.entity.js';
import { MAPPABLE_ROLES, type MappableRole } from '../resolve-role.js';

export class GroupRoleMappingInputDto {
  @ApiProperty({
    format: 'uuid',
    example: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    description: 'Object id of an Entra group of the connected tenant (see `GET …/groups`).',
  })
  @IsUUID()
  groupId: string;

  @ApiProperty({
    enum: MAPPABLE_ROLES,
    enumName: 'MappableRole',
    example: 'manager',
    description: 'The role members of the group get. Never `owner`.',
  })
  @IsIn(MAPPABLE_ROLES)
  role: MappableRole;
}

export class GroupRoleMappingResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The mapping id.' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'Object id of the Entra group.' })
  groupId: string;

  @ApiProperty({ example: 'IT Admins', description: 'As Graph reported it when the mapping was last saved.' })
  groupDisplayName: string;

  @ApiProperty({
    enum: MAPPABLE_ROLES,
    enumName: 'MappableRole',
    example: 'manager',
    description: 'The role members of the group get.',
  })
  role: MappableRole;

  @ApiProperty({ format: 'date-time', description: 'When the mapping was created.' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', description: 'When it was last changed.' })
  updatedAt: string;
}

export class GroupRoleMappingListDto {
  @ApiProperty({ type: [GroupRoleMappingResponseDto], description: 'Every mapping of the organization.' })
  items: GroupRoleMappingResponseDto[];
}

export class SearchGroupsQueryDto {
  @ApiPropertyOptional({
    description: 'Groups whose display name starts with this (case-insensitive).',
    maxLength: 120,
  })
  @IsOptional()
  @IsString()
  @MaxLength(120)
  search?: string;

  @ApiPropertyOptional({ description: 'Opaque cursor from a previous page’s `nextCursor`.' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  cursor?: string;
}

export class DirectoryGroupDto {
  @ApiProperty({ format: 'uuid', description: 'Object id of the group in Entra.' })
  id: string;

  @ApiProperty({ example: 'Engineering', description: 'Its display name.' })
  displayName: string;
}

export class DirectoryGroupPageDto {
  @ApiProperty({ type: [DirectoryGroupDto], description: 'The groups of this page.' })
  items: DirectoryGroupDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'Pass as `cursor` to get the next page; null on the last page.',
  })
  nextCursor: string | null;
}

export function toMappingResponse(mapping: GroupRoleMappingEntity): GroupRoleMappingResponseDto {
  return {
    id: mapping.id,
    groupId: mapping.groupId,
    groupDisplayName: mapping.groupDisplayName,
    role: mapping.role,
    createdAt: mapping.createdAt.toISOString(),
    updatedAt: mapping.updatedAt.toISOString(),
  };
}
