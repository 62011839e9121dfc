import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { ScimTokenEntity } from '../entities/scim-token.entity.js';

export class CreateScimTokenDto {
  @ApiProperty({
    description:
      'What the token is for, to recognize it in the list (e.g. the Entra enterprise app it is pasted into).',
    example: 'Entra provisioning (production)',
    maxLength: 100,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description:
      'When the token stops working; never, if absent (recommended: Entra quarantines a provisioning job whose ' +
      'token expires). The status warns 14 days before.',
    example: '2027-06-30T00:00:00.000Z',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  expiresAt?: Date;
}

export class ScimTokenResponseDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The token’s id (for `DELETE /api/v1/integrations/scim/tokens/{id}`); not the token itself.',
    example: '5b2d9c1e-7a4f-4e8b-9c3d-1f2e3a4b5c6d',
  })
  id: string;

  @ApiProperty({
    description: 'What the token is for, as given at creation.',
    example: 'Entra provisioning (production)',
  })
  name: string;

  @ApiProperty({
    description: 'The first characters of the token, to tell tokens apart (the rest is never shown again).',
    example: 'scim_Xq81LmV0',
  })
  prefix: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Who created it; the token belongs to the organization, not to them.',
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
    description: 'When the token stops working; null: never.',
    example: null,
  })
  expiresAt: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When Entra (or anyone holding the token) last used it, to the minute.',
    example: '2026-12-01T10:02:00.000Z',
  })
  lastUsedAt: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The client address of that use.',
    example: '20.44.16.7',
  })
  lastUsedFrom: string | null;
}

export class CreatedScimTokenDto extends ScimTokenResponseDto {
  @ApiProperty({
    description:
      'The token itself, shown this once: paste it as the Secret Token of the Entra provisioning pane. Only ' +
      'its hash is stored.',
    example: 'scim_Xq81LmV0c2hH7tYw2pQe9RkA4uN6bJfXsD5gCzT1o0',
  })
  token: string;

  @ApiProperty({
    description: 'The Tenant URL to paste beside it.',
    example: 'https://app.example.com/scim/v2',
  })
  tenantUrl: string;
}

export function toScimTokenResponse(token: ScimTokenEntity): ScimTokenResponseDto {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    createdByUserId: token.createdByUserId,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt?.toISOString() ?? null,
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    lastUsedFrom: token.lastUsedFrom,
  };
}
