import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import type { Plan } from '../../organizations/entities/organization.entity.js';
import type { UserEntity } from '../../users/entities/user.entity.js';
import type { EntraConnectionEntity } from '../entities/entra-connection.entity.js';

export const INTEGRATION_STATUSES = ['not_connected', 'connected', 'reauthorization_required'] as const;
export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];

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
}

export class UpdateEntraSettingsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  autoProvisionUsers?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  autoDeprovisionSync?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  groupRoleMapping?: boolean;
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
    type: Object,
    description: 'Summary of the latest directory sync (none yet).',
  })
  lastSync: Record<string, unknown> | null;
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
  status: { connection: EntraConnectionEntity; connectedBy: UserEntity | null; plan: Plan } | null,
): EntraIntegrationResponseDto {
  if (!status) {
    return {
      status: 'not_connected',
      tenantId: null,
      tenantName: null,
      verifiedDomains: [],
      connectedAt: null,
      connectedBy: null,
      settings: { autoProvisionUsers: false, autoDeprovisionSync: false, groupRoleMapping: false },
      featuresActive: false,
      inactiveReason: 'not_connected',
      lastSync: null,
    };
  }
  const { connection, connectedBy, plan } = status;
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
    verifiedDomains: connection.verifiedDomains.map((d) => ({ name: d.name, isDefault: d.isDefault })),
    connectedAt: connection.connectedAt.toISOString(),
    connectedBy: connectedBy
      ? { id: connectedBy.id, displayName: connectedBy.displayName, email: connectedBy.email }
      : null,
    settings: {
      autoProvisionUsers: connection.autoProvisionUsers,
      autoDeprovisionSync: connection.autoDeprovisionSync,
      groupRoleMapping: connection.groupRoleMapping,
    },
    featuresActive: inactiveReason === null,
    inactiveReason,
    lastSync: null,
  };
}
