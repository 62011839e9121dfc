import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { GroupRoleMappingEntity } from '../entities/group-role-mapping.entity.js';
import { MAPPABLE_ROLES, type MappableRole } from '../resolve-role.js';

export class GroupRoleMappingInputDto {
  @ApiProperty({ format: 'uuid', description: 'Object id of an Entra group of the connected tenant.' })
  @IsUUID()
  groupId: string;

  @ApiProperty({ enum: MAPPABLE_ROLES, enumName: 'MappableRole', description: 'Never `owner`.' })
  @IsIn(MAPPABLE_ROLES)
  role: MappableRole;
}

export class GroupRoleMappingResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  groupId: string;

  @ApiProperty({ example: 'IT Admins', description: 'As Graph reported it when the mapping was last saved.' })
  groupDisplayName: string;

  @ApiProperty({ enum: MAPPABLE_ROLES, enumName: 'MappableRole' })
  role: MappableRole;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class GroupRoleMappingListDto {
  @ApiProperty({ type: [GroupRoleMappingResponseDto] })
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
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Engineering' })
  displayName: string;
}

export class DirectoryGroupPageDto {
  @ApiProperty({ type: [DirectoryGroupDto] })
  items: DirectoryGroupDto[];

  @ApiProperty({ nullable: true, type: String })
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
