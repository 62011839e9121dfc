import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDate,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../common/scopes.js';
import type { ApiKeyEntity } from '../entities/api-key.entity.js';

export class CreateApiKeyDto {
  @ApiProperty({
    description: 'What the key is for, to recognize it in the list.',
    example: 'HR system sync',
    maxLength: 100,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    enumName: 'ApiKeyScope',
    isArray: true,
    description: 'What the key may do; give it only what the integration needs. An unknown scope is a 400.',
    example: ['users:read', 'events:read'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @ArrayUnique()
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes: ApiKeyScope[];

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'When the key stops working; never, if absent.',
    example: '2027-06-30T00:00:00.000Z',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  expiresAt?: Date;
}

export class ApiKeyResponseDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The key’s id (for `DELETE /api/v1/api-keys/{id}`); not the key itself.',
    example: '3f1c2a4e-9b7d-4c11-8e2f-5a6b7c8d9e0f',
  })
  id: string;

  @ApiProperty({ description: 'What the key is for, as given at creation.', example: 'HR system sync' })
  name: string;

  @ApiProperty({
    description: 'The first characters of the key, to tell keys apart (the rest is never shown again).',
    example: 'edk_q3Zx81Lm',
  })
  prefix: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    enumName: 'ApiKeyScope',
    isArray: true,
    description: 'What the key may do.',
    example: ['users:read', 'events:read'],
  })
  scopes: string[];

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Who created it; the key belongs to the organization, not to them.',
    example: '8d0f6b2a-1c3e-4f5a-9b7d-2e4c6a8b0d1f',
  })
  createdByUserId: string | null;

  @ApiProperty({
    format: 'date-time',
    description: 'When it was created.',
    example: '2026-12-01T09:30:00.000Z',
  })
  createdAt: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the key stops working; null: never.',
    example: '2027-06-30T00:00:00.000Z',
  })
  expiresAt: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the key was last used (to the minute).',
    example: '2026-12-01T10:02:00.000Z',
  })
  lastUsedAt: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The client address of that use.',
    example: '203.0.113.7',
  })
  lastUsedFrom: string | null;
}

export class CreatedApiKeyDto extends ApiKeyResponseDto {
  @ApiProperty({
    description:
      'The key itself, shown this once: send it as `Authorization: Bearer <key>`. Only its hash is stored.',
    example: 'edk_q3Zx81LmV0c2hH7tYw2pQe9RkA4uN6bJfXsD5gCzT1o',
  })
  key: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyResponseDto], description: 'The organization’s live keys, newest first.' })
  items: ApiKeyResponseDto[];
}

export function toApiKeyResponse(key: ApiKeyEntity): ApiKeyResponseDto {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdByUserId: key.createdByUserId,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    lastUsedFrom: key.lastUsedFrom,
  };
}
