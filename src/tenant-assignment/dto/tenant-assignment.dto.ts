import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsString, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation.js';
import type { TenantAssignmentStatus, TenantAssignmentView } from '../tenant-assignment-view.js';

export const TENANT_ASSIGNMENT_STATUSES = [
  'disabled',
  'pending_verification',
  'enabled',
  'suspended',
] as const;

const DOMAINS_DESCRIPTION =
  'Exact DNS names (no wildcards; `acme.com` does not cover `eu.acme.com`), compared case-insensitively and ' +
  'stored lower-case. Public mail domains (outlook.com, gmail.com, ...) are refused.';

export class VerifyTenantAssignmentDto {
  @ApiProperty({
    type: [String],
    example: ['acme.com', 'eu.acme.com'],
    minItems: 1,
    maxItems: 100,
    description: `The whole allowlist to verify (it replaces the current one). ${DOMAINS_DESCRIPTION}`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  domains: string[];

  @ApiPropertyOptional({
    example: false,
    description:
      'New arrivals become active at once (seat permitting) instead of waiting for an Owner or Admin. Defaults ' +
      'to the current setting (off for a new assignment).',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  autoActivate?: boolean;
}

/** Removals and the switch only: adding a domain needs Save & Verify. */
export class UpdateTenantAssignmentDto {
  @ApiPropertyOptional({
    type: [String],
    example: ['acme.com'],
    minItems: 1,
    maxItems: 100,
    description:
      'The allowlist without the domains to remove: every entry must already be listed (adding one needs ' +
      '`POST /api/v1/tenant-assignment/verify`). Removed domains are released at once.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  domains?: string[];

  @ApiPropertyOptional({
    example: true,
    description:
      'Applies to new arrivals; users already awaiting approval stay pending until an Owner or Admin activates them.',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  autoActivate?: boolean;
}

export class VerifiedByDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Adele Vance',
    description: 'Display name (`name`).',
  })
  name: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'adele@acme.com',
    description: 'Sign-in name (`preferred_username`).',
  })
  userPrincipalName: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Global Administrator',
    description:
      'The tenant-administrator role the account held: Global, Privileged Role, Application or Cloud ' +
      'Application Administrator.',
  })
  role: string | null;
}

export class TenantAssignmentResponseDto {
  @ApiProperty({
    enum: TENANT_ASSIGNMENT_STATUSES,
    enumName: 'TenantAssignmentStatus',
    example: 'enabled',
    description:
      '`disabled`; `pending_verification` (saved, a tenant administrator has not verified it yet); `enabled` ' +
      '(new sign-ins of the tenant on the domains land here); `suspended` (enabled, but the plan no longer ' +
      'includes it: sign-ins are not assigned until an upgrade resumes it).',
  })
  status: TenantAssignmentStatus;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: '1b78af38-2c37-44d9-a1df-fad64adb86d9',
    description:
      'The Microsoft tenant: the connected Entra tenant, else the tenant of the Owner’s or Admin’s Microsoft ' +
      'account. Null when it cannot be known yet.',
  })
  tenantId: string | null;

  @ApiProperty({
    type: [String],
    example: ['acme.com', 'eu.acme.com'],
    description: 'The verified allowlist.',
  })
  domains: string[];

  @ApiProperty({ example: false, description: 'New arrivals become active at once (seat permitting).' })
  autoActivate: boolean;

  @ApiProperty({
    type: VerifiedByDto,
    nullable: true,
    description: 'The tenant administrator whose fresh sign-in verified it.',
  })
  verifiedBy: VerifiedByDto | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-12-01T13:45:00.000Z',
    description: 'When the tenant administrator verified it; null until then.',
  })
  verifiedAt: string | null;
}

export class VerifyTenantAssignmentResponseDto {
  @ApiProperty({
    description:
      'Open this Microsoft URL in the same browser session: a tenant administrator signs in afresh there.',
    example:
      'https://login.microsoftonline.com/1b78af38-2c37-44d9-a1df-fad64adb86d9/oauth2/v2.0/authorize?client_id=...&prompt=login&max_age=0',
  })
  authorizationUrl: string;
}

export function toTenantAssignmentResponse(view: TenantAssignmentView): TenantAssignmentResponseDto {
  return {
    status: view.status,
    tenantId: view.tenantId,
    domains: view.domains,
    autoActivate: view.autoActivate,
    verifiedBy: view.verifiedBy,
    verifiedAt: view.verifiedAt?.toISOString() ?? null,
  };
}
