import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageInfoDto, PageQueryDto } from '../../../common/pagination.js';
import { SCIM_RESOURCE_TYPES, type ScimRequestEntity } from '../entities/scim-request.entity.js';
import { ScimTokenResponseDto } from './scim-token.dto.js';

export const SCIM_OUTCOMES = ['success', 'failure'] as const;
export type ScimOutcome = (typeof SCIM_OUTCOMES)[number];
export const SCIM_WARNING_CODES = ['token_expires_soon', 'no_live_token'] as const;

export class UpdateScimSettingsDto {
  @ApiProperty({
    description:
      'Off: every SCIM request of the organization is refused with 403 and changes nothing (Entra reports the ' +
      'failures and retries); on again: it works again. Tokens are kept either way.',
    example: true,
  })
  @IsBoolean()
  enabled: boolean;
}

export class ScimSettingsResponseDto {
  @ApiProperty({ description: 'Whether SCIM requests of the organization are served.', example: true })
  enabled: boolean;
}

export class ListScimRequestsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: SCIM_OUTCOMES,
    enumName: 'ScimRequestOutcome',
    description: 'Only successful (status below 400) or only failed requests.',
  })
  @IsOptional()
  @IsIn(SCIM_OUTCOMES)
  outcome?: ScimOutcome;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Only the requests that addressed this user (its SCIM id, the product user’s id).',
  })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only the requests that addressed this group.' })
  @IsOptional()
  @IsUUID()
  groupId?: string;
}

export class ScimRequestDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The entry’s id.',
    example: '0c3f5a7e-2b4d-4e6f-8a1c-3e5f7a9b1d2c',
  })
  id: string;

  @ApiProperty({
    format: 'date-time',
    description: 'When the request arrived.',
    example: '2026-12-01T10:02:13.120Z',
  })
  createdAt: string;

  @ApiProperty({ description: 'The HTTP method.', example: 'PATCH' })
  method: string;

  @ApiProperty({
    description: 'The path below the Tenant URL (the query string is in `query`).',
    example: '/Users/8d0f6b2a-1c3e-4f5a-9b7d-2e4c6a8b0d1f',
  })
  path: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The query string as sent, if any.',
    example: 'filter=userName+eq+%22megan%40contoso.com%22',
  })
  query: string | null;

  @ApiProperty({ type: 'integer', description: 'The HTTP status answered.', example: 400 })
  status: number;

  @ApiProperty({
    enum: SCIM_OUTCOMES,
    enumName: 'ScimRequestOutcome',
    description: '`failure` for a status of 400 or more.',
    example: 'failure',
  })
  outcome: ScimOutcome;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The SCIM error type answered (RFC 7644 §3.12), if any.',
    example: 'invalidValue',
  })
  scimType: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The error detail answered, if any.',
    example: 'Unknown member ids: 3f1c2a4e-9b7d-4c11-8e2f-5a6b7c8d9e0f.',
  })
  detail: string | null;

  @ApiProperty({
    enum: SCIM_RESOURCE_TYPES,
    enumName: 'ScimResourceType',
    nullable: true,
    description: 'The kind of resource the request addressed, if any.',
    example: 'User',
  })
  resourceType: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The SCIM id of the user or group addressed (from the path, or the id a create answered).',
    example: '8d0f6b2a-1c3e-4f5a-9b7d-2e4c6a8b0d1f',
  })
  resourceId: string | null;

  @ApiProperty({ type: 'integer', description: 'How long the answer took, in milliseconds.', example: 12 })
  durationMs: number;

  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    description:
      'The request body with secrets (`password` and any attribute named like a secret) removed; a body over ' +
      '32 KiB is replaced by its size.',
    example: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    },
  })
  requestBody: unknown;

  @ApiProperty({
    type: [String],
    description: 'What the service noted about the request (a value it ignored, a last Owner deactivated).',
    example: ['The members value was not a list of members: ignored.'],
  })
  notes: string[];

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The token presented, if it was one of the organization’s (also a revoked or expired one).',
    example: '5b2d9c1e-7a4f-4e8b-9c3d-1f2e3a4b5c6d',
  })
  tokenId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The client address of the request.',
    example: '20.44.16.7',
  })
  clientAddress: string | null;
}

export class ScimRequestListDto extends PageInfoDto {
  @ApiProperty({ type: [ScimRequestDto], description: 'The entries, newest first.' })
  items: ScimRequestDto[];
}

export class ScimWarningDto {
  @ApiProperty({
    enum: SCIM_WARNING_CODES,
    enumName: 'ScimWarningCode',
    description:
      '`token_expires_soon`: a live token expires within 14 days (Entra quarantines the job when it does); ' +
      '`no_live_token`: SCIM is on but no token can reach it.',
    example: 'token_expires_soon',
  })
  code: (typeof SCIM_WARNING_CODES)[number];

  @ApiProperty({
    description: 'What to do about it.',
    example:
      'The SCIM token “Entra provisioning” expires on 2026-12-10: create a new one and paste it into Entra.',
  })
  message: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The token concerned, if one.',
    example: '5b2d9c1e-7a4f-4e8b-9c3d-1f2e3a4b5c6d',
  })
  tokenId: string | null;
}

export class ScimLiveTokenDto extends ScimTokenResponseDto {
  @ApiProperty({ description: 'Whether the token expires within 14 days.', example: false })
  expiresSoon: boolean;
}

export class ScimStatusDto {
  @ApiProperty({ description: 'Whether SCIM requests of the organization are served.', example: true })
  enabled: boolean;

  @ApiProperty({
    description: 'The Tenant URL to paste into the Entra provisioning pane.',
    example: 'https://app.example.com/scim/v2',
  })
  tenantUrl: string;

  @ApiProperty({ type: [ScimLiveTokenDto], description: 'The live tokens (at most two), newest first.' })
  tokens: ScimLiveTokenDto[];

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Users managed through SCIM (not deleted through it); null when not available.',
    example: 182,
  })
  managedUsers: number | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Groups managed through SCIM; null when not available.',
    example: 7,
  })
  managedGroups: number | null;

  @ApiProperty({ type: ScimRequestDto, nullable: true, description: 'The newest SCIM request, if any.' })
  lastRequest: ScimRequestDto | null;

  @ApiProperty({
    type: ScimRequestDto,
    nullable: true,
    description: 'The newest failed SCIM request, if any.',
  })
  lastError: ScimRequestDto | null;

  @ApiProperty({ type: [ScimWarningDto], description: 'What needs an admin’s attention, if anything.' })
  warnings: ScimWarningDto[];
}

export function toScimRequestResponse(entry: ScimRequestEntity): ScimRequestDto {
  return {
    id: entry.id,
    createdAt: entry.createdAt.toISOString(),
    method: entry.method,
    path: entry.path,
    query: entry.query,
    status: entry.status,
    outcome: entry.status >= 400 ? 'failure' : 'success',
    scimType: entry.scimType,
    detail: entry.detail,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    durationMs: entry.durationMs,
    requestBody: entry.requestBody ?? null,
    notes: entry.notes,
    tokenId: entry.tokenId,
    clientAddress: entry.clientAddress,
  };
}
