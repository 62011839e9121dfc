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
    type: 'integer',
    minimum: 0,
    maximum: 1_000_000,
    example: 25,
    description: 'Deactivations a run may apply without approval.',
  })
  count: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: 100,
    example: 10,
    description: '… or this percentage of linked active users, whichever is larger.',
  })
  percent: number;
}

export class UpdateDeprovisionThresholdDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 1_000_000,
    example: 25,
    description:
      'Deactivations a run may apply without approval. Keep it low: a run above the threshold waits for approval, ' +
      'which is what stops a misconfigured tenant from deactivating everyone.',
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  count?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 100,
    example: 10,
    description:
      '… or this percentage of linked active users, whichever is larger (100 switches the check off).',
  })
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
  @ApiPropertyOptional({
    example: true,
    description: 'Users of a verified domain join at their first Microsoft sign-in, without an invitation.',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  autoProvisionUsers?: boolean;

  @ApiPropertyOptional({
    example: true,
    description:
      'Nightly (03:00 UTC) and on-demand sync that deactivates users disabled or deleted in Entra.',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  autoDeprovisionSync?: boolean;

  @ApiPropertyOptional({
    example: false,
    description: 'Entra group membership decides the role at every Microsoft sign-in.',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  groupRoleMapping?: boolean;

  @ApiPropertyOptional({
    type: UpdateDeprovisionThresholdDto,
    description: 'The sync’s safety threshold; a member left out keeps its value.',
  })
  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => UpdateDeprovisionThresholdDto)
  deprovisionThreshold?: UpdateDeprovisionThresholdDto;
}

export class VerifiedDomainDto {
  @ApiProperty({ example: 'contoso.com', description: 'A domain the tenant verified.' })
  name: string;

  @ApiProperty({ description: 'The tenant’s default domain.' })
  isDefault: boolean;
}

export class ConnectedByDto {
  @ApiProperty({
    format: 'uuid',
    example: '2b1f6c3e-9d4a-4f0b-8e7c-5a6b7c8d9e0f',
    description: 'The user who connected the tenant.',
  })
  id: string;

  @ApiProperty({ example: 'Adele Vance', description: 'Their display name.' })
  displayName: string;

  @ApiProperty({ example: 'adele@contoso.com', description: 'Their email address.' })
  email: string;
}

export class EntraIntegrationResponseDto {
  @ApiProperty({
    enum: INTEGRATION_STATUSES,
    enumName: 'EntraIntegrationStatus',
    example: 'connected',
    description: 'Whether a tenant is connected, and whether Microsoft still accepts its grant.',
  })
  status: IntegrationStatus;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    example: '6e8f3a1b-2c4d-4e5f-9a0b-1c2d3e4f5a6b',
    description: 'The connected Entra tenant id (`tid`); null when not connected.',
  })
  tenantId: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'Contoso',
    description: 'The tenant’s display name, as Graph reported it at connect or refresh.',
  })
  tenantName: string | null;

  @ApiProperty({
    type: [VerifiedDomainDto],
    description: 'The tenant’s verified domains; empty when not connected.',
  })
  verifiedDomains: VerifiedDomainDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-11-30T09:15:00.000Z',
    description: 'When the tenant was connected.',
  })
  connectedAt: string | null;

  @ApiProperty({
    nullable: true,
    type: ConnectedByDto,
    description: 'Who connected it, while that user exists.',
  })
  connectedBy: ConnectedByDto | null;

  @ApiProperty({ type: EntraSettingsDto, description: 'All off after a fresh connection.' })
  settings: EntraSettingsDto;

  @ApiProperty({
    example: true,
    description:
      'Whether the enabled features run now: false while reauthorization is required or when the organization ' +
      'is no longer on the Enterprise plan (the connection and settings are kept).',
  })
  featuresActive: boolean;

  @ApiProperty({
    nullable: true,
    type: String,
    enum: ['not_connected', 'reauthorization_required', 'plan_required'],
    example: null,
    description: 'Why `featuresActive` is false; null while it is true.',
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
  @ApiProperty({
    format: 'uuid',
    example: '8d3c1f0a-5b2e-4c7d-9a6f-1e2b3c4d5e6f',
    description: 'The sync run (`GET …/sync-runs/{id}`).',
  })
  runId: string;

  @ApiProperty({ enum: ['schedule', 'manual'], example: 'schedule', description: 'What started the run.' })
  trigger: string;

  @ApiProperty({ example: false, description: 'A preview that deactivates nobody.' })
  dryRun: boolean;

  @ApiProperty({
    enum: ['queued', 'running', 'succeeded', 'failed', 'awaiting_approval', 'rejected'],
    example: 'succeeded',
    description: 'Where the run stands.',
  })
  status: string;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-01T03:00:02.000Z',
    description: 'When a worker started it.',
  })
  startedAt: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-01T03:00:09.000Z',
    description: 'When it ended; null while it runs or waits.',
  })
  finishedAt: string | null;

  @ApiProperty({ type: 'integer', example: 2, description: 'Users the run deactivated.' })
  deactivated: number;

  @ApiProperty({
    type: 'integer',
    example: 2,
    description: 'Deactivations the run planned (applied, awaiting approval, or previewed).',
  })
  planned: number;

  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'Why a failed run failed (a sync-run failure code); null otherwise.',
  })
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
