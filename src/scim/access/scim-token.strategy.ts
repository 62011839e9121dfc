import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Authenticators, type RequestAuthenticator } from '../../common/authenticators.js';
import { bearerToken } from '../../common/guards.js';
import { ScimAccessService } from './scim-access.service.js';
import type { ScimCaller } from './scim-caller.js';
import { scimLogState } from './scim-request-log.js';

/**
 * Authenticates `Authorization: Bearer scim_…` for `@Auth('scim_token')`. An unknown, revoked or expired token
 * is a 401; a token of an organization without Enterprise, or with SCIM switched off, a 403. A refused token
 * that names an organization still lands in that organization's provisioning log.
 */
@Injectable()
export class ScimTokenStrategy implements RequestAuthenticator {
  constructor(
    private readonly access: ScimAccessService,
    authenticators: Authenticators,
  ) {
    authenticators.register('scim_token', this);
  }

  async validate(request: Request): Promise<ScimCaller | false> {
    const secret = bearerToken(request);
    if (!secret) return false;
    const result = await this.access.authenticate(secret, request.ip ?? null);
    const log = scimLogState(request);
    if ('caller' in result) {
      if (log) Object.assign(log, result.caller);
      return result.caller;
    }
    const { refusal } = result;
    if (log && refusal.organizationId)
      Object.assign(log, { organizationId: refusal.organizationId, tokenId: refusal.tokenId });
    if (refusal.status === 403) throw refusal.error;
    return false;
  }
}
