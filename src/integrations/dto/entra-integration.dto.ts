import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, Max, Min, ValidateNested } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation.js';
import type { Plan } from '../../common/access.js';
import type { UserIdentity } from '../../users/users.types.js';
import type { EntraConnectionEntity, StoredSyncSummary } from '../entities/entra-connection.entity.js';

export const INTEGRATION_STATUSES = ['not_connected', 'connected', 'reauthorization_required'] as const;
export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];

export class DeprovisionThresholdDto {
  @ApiProperty({
    minimum: 0,
    maximum: 1_000_000,
    example: 25,
    description: 'Deactivations a run may apply without approval.',
  })
  count: number;

  @ApiProperty({
    minimum: 0,
    maximum: 100,
    example: 10,
    description: '… or this percentage of linked active users, whichever is larger.',
  })
  percent: number;
}

export class UpdateDeprovisionThresholdDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 1_000_000 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  count?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 100 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(100)
  percent?: number;
}

export class EntraSettingsDto {
  @ApiProperty({
    description: 'Users of a verified domain join at their first Microsoft sign-in, without an invitation.',
  })
  autoProvisionUsers: boolean;

  @ApiProperty({
    description:
      'Nightly (03:00 UTC) and on-demand sync that deactivates users disabled or deleted in Entra.',
  })
  autoDeprovisionSync: boolean;

  @ApiProperty({ description: 'Entra group membership decides the role at every Microsoft sign-in.' })
  groupRoleMapping: boolean;

  @ApiProperty({
    type: DeprovisionThresholdDto,
    description: 'Safety threshold of the directory sync (default 25 users or 10 %, whichever is larger).',
  })
  deprovisionThreshold: DeprovisionThresholdDto;
}

/** Every member may be left out; none may be null (each column has a value). */
export class UpdateEntraSettingsDto {
  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsBoolean()
  autoProvisionUsers?: boolean;

  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsBoolean()
  autoDeprovisionSync?: boolean;

  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsBoolean()
  groupRoleMapping?: boolean;

  @ApiPropertyOptional({ type: UpdateDeprovisionThresholdDto })
  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => UpdateDeprovisionThresholdDto)
  deprovisionThreshold?: UpdateDeprovisionThresholdDto;
}

export class VerifiedDomainDto {
  @ApiProperty({ example: 'contoso.com' })
  name: string;

  @ApiProperty({ description: 'The tenant’s default domain.' })
  isDefault: boolean;
}

export class ConnectedByDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Adele Vance' })
  displayName: string;

  @ApiProperty({ example: 'adele@contoso.com' })
  email: string;
}

export class EntraIntegrationResponseDto {
  @ApiProperty({ enum: INTEGRATION_STATUSES, enumName: 'EntraIntegrationStatus' })
  status: IntegrationStatus;

  @ApiProperty({ nullable: true, type: String, format: 'uuid' })
  tenantId: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'Contoso' })
  tenantName: string | null;

  @ApiProperty({ type: [VerifiedDomainDto] })
  verifiedDomains: VerifiedDomainDto[];

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  connectedAt: string | null;

  @ApiProperty({ nullable: true, type: ConnectedByDto })
  connectedBy: ConnectedByDto | null;

  @ApiProperty({ type: EntraSettingsDto, description: 'All off after a fresh connection.' })
  settings: EntraSettingsDto;

  @ApiProperty({
    description:
      'Whether the enabled features run now: false while reauthorization is required or when the organization ' +
      'is no longer on the Enterprise plan (the connection and settings are kept).',
  })
  featuresActive: boolean;

  @ApiProperty({
    nullable: true,
    type: String,
    enum: ['not_connected', 'reauthorization_required', 'plan_required'],
    description: 'Why `featuresActive` is false.',
  })
  inactiveReason: 'not_connected' | 'reauthorization_required' | 'plan_required' | null;

  @ApiProperty({
    nullable: true,
    type: () => LastSyncDto,
    description: 'The latest directory sync run, if any.',
  })
  lastSync: LastSyncDto | null;
}

export class LastSyncDto {
  @ApiProperty({ format: 'uuid' })
  runId: string;

  @ApiProperty({ enum: ['schedule', 'manual'] })
  trigger: string;

  @ApiProperty()
  dryRun: boolean;

  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed', 'awaiting_approval', 'rejected'] })
  status: string;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  startedAt: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  finishedAt: string | null;

  @ApiProperty({ description: 'Users the run deactivated.' })
  deactivated: number;

  @ApiProperty({ description: 'Deactivations the run planned (applied, awaiting approval, or previewed).' })
  planned: number;

  @ApiProperty({ nullable: true, type: String })
  errorCode: string | null;
}

export class ConnectEntraResponseDto {
  @ApiProperty({
    description:
      'Open this Microsoft URL in the browser (same session): an administrator grants consent there.',
    example:
      'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=...&prompt=consent',
  })
  authorizationUrl: string;
}

export function toEntraIntegrationResponse(
  status: {
    connection: EntraConnectionEntity;
    verifiedDomains: { name: string; isDefault: boolean }[];
    connectedBy: UserIdentity | null;
    plan: Plan;
  } | null,
): EntraIntegrationResponseDto {
  if (!status) {
    return {
      status: 'not_connected',
      tenantId: null,
      tenantName: null,
      verifiedDomains: [],
      connectedAt: null,
      connectedBy: null,
      settings: {
        autoProvisionUsers: false,
        autoDeprovisionSync: false,
        groupRoleMapping: false,
        deprovisionThreshold: { count: 25, percent: 10 },
      },
      featuresActive: false,
      inactiveReason: 'not_connected',
      lastSync: null,
    };
  }
  const { connection, verifiedDomains, connectedBy, plan } = status;
  const inactiveReason =
    connection.status === 'reauthorization_required'
      ? 'reauthorization_required'
      : plan !== 'enterprise'
        ? 'plan_required'
        : null;
  return {
    status: connection.status,
    tenantId: connection.tenantId,
    tenantName: connection.tenantName,
    verifiedDomains: verifiedDomains.map((d) => ({ name: d.name, isDefault: d.isDefault })),
    connectedAt: connection.connectedAt.toISOString(),
    connectedBy: connectedBy
      ? { id: connectedBy.id, displayName: connectedBy.displayName, email: connectedBy.email }
      : null,
    settings: {
      autoProvisionUsers: connection.autoProvisionUsers,
      autoDeprovisionSync: connection.autoDeprovisionSync,
      groupRoleMapping: connection.groupRoleMapping,
      deprovisionThreshold: {
        count: connection.deprovisionThresholdCount,
        percent: connection.deprovisionThresholdPercent,
      },
    },
    featuresActive: inactiveReason === null,
    inactiveReason,
    lastSync: connection.lastSync ? toLastSyncResponse(connection.lastSync) : null,
  };
}

/** The stored summary without its ordering field: exactly the fields `lastSync` has always had. */
function toLastSyncResponse(summary: StoredSyncSummary): LastSyncDto {
  return {
    runId: summary.runId,
    trigger: summary.trigger,
    dryRun: summary.dryRun,
    status: summary.status,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    deactivated: summary.deactivated,
    planned: summary.planned,
    errorCode: summary.errorCode,
  };
}
