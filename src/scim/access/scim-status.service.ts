import { Injectable } from '@nestjs/common';
import { type ScimRequestEntity } from './entities/scim-request.entity.js';
import type { ScimTokenEntity } from './entities/scim-token.entity.js';
import { ScimAccessService } from './scim-access.service.js';
import { ScimRequestLogService } from './scim-request-log.service.js';
import { ScimResourceCounts } from './scim-resource-counts.js';

/** A token expiring within this long is flagged: Entra quarantines a provisioning job whose token expires. */
export const EXPIRY_WARNING_DAYS = 14;

export interface ScimWarning {
  code: 'token_expires_soon' | 'no_live_token';
  message: string;
  tokenId: string | null;
}

export interface ScimStatus {
  enabled: boolean;
  tenantUrl: string;
  tokens: (ScimTokenEntity & { expiresSoon: boolean })[];
  managedUsers: number | null;
  managedGroups: number | null;
  lastRequest: ScimRequestEntity | null;
  lastError: ScimRequestEntity | null;
  warnings: ScimWarning[];
}

/** What the SCIM settings page shows: the switch, the Tenant URL, tokens, counts, the last request and error. */
@Injectable()
export class ScimStatusService {
  constructor(
    private readonly access: ScimAccessService,
    private readonly log: ScimRequestLogService,
    private readonly counts: ScimResourceCounts,
  ) {}

  async status(organizationId: string): Promise<ScimStatus> {
    const [enabled, tokens, managedUsers, managedGroups, latest] = await Promise.all([
      this.access.isEnabled(organizationId),
      this.access.listTokens(organizationId),
      this.counts.count('users', organizationId),
      this.counts.count('groups', organizationId),
      this.log.latest(organizationId),
    ]);
    const soon = Date.now() + EXPIRY_WARNING_DAYS * 86_400_000;
    const live = tokens.map((token) =>
      Object.assign(token, { expiresSoon: token.expiresAt !== null && token.expiresAt.getTime() <= soon }),
    );
    const warnings: ScimWarning[] = live
      .filter((token) => token.expiresSoon)
      .map((token) => ({
        code: 'token_expires_soon',
        message:
          `The SCIM token “${token.name}” expires on ${token.expiresAt!.toISOString().slice(0, 10)}: create a ` +
          'new one, paste it into Entra, then revoke this one.',
        tokenId: token.id,
      }));
    if (enabled && live.length === 0)
      warnings.push({
        code: 'no_live_token',
        message: 'SCIM is on but has no live token: create one and paste it into Entra with the Tenant URL.',
        tokenId: null,
      });
    return {
      enabled,
      tenantUrl: this.access.tenantUrl,
      tokens: live,
      managedUsers,
      managedGroups,
      lastRequest: latest.request,
      lastError: latest.error,
      warnings,
    };
  }
}
