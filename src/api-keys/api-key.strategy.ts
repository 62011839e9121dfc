import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Authenticators, type RequestAuthenticator } from '../common/authenticators.js';
import { API_KEY_PREFIX, bearerToken } from '../common/guards.js';
import type { Principal } from '../common/principal.js';
import { ApiKeyLimitsService, type RateLimitState } from '../rate-limits/api-key-limits.service.js';
import { ApiKeyRateLimitedError } from '../rate-limits/rate-limits.errors.js';
import { ApiKeysService } from './api-keys.service.js';

/**
 * Authenticates `Authorization: Bearer edk_…` and counts the request against the key's own budget, telling
 * the client where it stands (`RateLimit`, `RateLimit-Policy`; `Retry-After` once it is spent).
 */
@Injectable()
export class ApiKeyStrategy implements RequestAuthenticator {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly limits: ApiKeyLimitsService,
    authenticators: Authenticators,
  ) {
    authenticators.register('api_key', this);
  }

  async validate(request: Request): Promise<Principal | false> {
    const token = bearerToken(request);
    if (!token?.startsWith(API_KEY_PREFIX)) return false;
    const principal = await this.keys.authenticate(token, request.ip ?? null);
    if (!principal) return false;
    try {
      this.announce(request, await this.limits.consume(principal.apiKeyId!));
    } catch (error) {
      if (error instanceof ApiKeyRateLimitedError) {
        this.announce(request, error.state);
        request.res?.setHeader('Retry-After', String(error.retryAfterSeconds));
      }
      throw error;
    }
    return principal;
  }

  private announce(request: Request, state: RateLimitState): void {
    request.res?.setHeader('RateLimit-Policy', this.limits.policy);
    request.res?.setHeader(
      'RateLimit',
      `limit=${state.limit}, remaining=${state.remaining}, reset=${state.resetSeconds}`,
    );
  }
}
