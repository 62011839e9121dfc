import { Inject, Injectable } from '@nestjs/common';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { GraphRequestError } from './microsoft.errors.js';

export interface TenantDetails {
  tenantId: string;
  displayName: string | null;
  verifiedDomains: { name: string; isDefault: boolean; isInitial: boolean }[];
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Microsoft Graph v1.0 through the official client (its retry handler honours 429/503/504 `Retry-After`).
 * Callers hand in a delegated access token; this class never sees refresh tokens.
 */
@Injectable()
export class GraphClient {
  private readonly hosts: Set<string>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // customHosts takes host names without the port; otherwise the client silently drops the token.
    this.hosts = new Set([new URL(config.entra.graphBaseUrl).hostname]);
  }

  private client(accessToken: string): Client {
    return Client.init({
      baseUrl: `${this.config.entra.graphBaseUrl}/`,
      defaultVersion: 'v1.0',
      customHosts: this.hosts,
      authProvider: (done) => done(null, accessToken),
    });
  }

  async getOrganization(accessToken: string): Promise<TenantDetails> {
    const body = (await this.call(() =>
      this.client(accessToken)
        .api('/organization')
        .select('id,displayName,verifiedDomains')
        .option('signal', AbortSignal.timeout(REQUEST_TIMEOUT_MS))
        .get(),
    )) as { value?: { id: string; displayName?: string; verifiedDomains?: Record<string, unknown>[] }[] };
    const organization = body.value?.[0];
    if (!organization)
      throw new GraphRequestError(404, 'Request_ResourceNotFound', 'The tenant has no organization object.');
    return {
      tenantId: organization.id,
      displayName: organization.displayName ?? null,
      verifiedDomains: (organization.verifiedDomains ?? [])
        .filter((d) => typeof d.name === 'string')
        .map((d) => ({
          name: d.name as string,
          isDefault: d.isDefault === true,
          isInitial: d.isInitial === true,
        })),
    };
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof GraphError)
        throw new GraphRequestError(error.statusCode, error.code ?? 'unknown', error.message);
      throw new GraphRequestError(0, 'network_error', error instanceof Error ? error.message : String(error));
    }
  }
}
