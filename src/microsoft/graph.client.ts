import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { graphClient, toGraphError, withDeadline } from './graph-session.js';
import { GraphRequestError } from './microsoft.errors.js';

export interface TenantDetails {
  tenantId: string;
  displayName: string | null;
  verifiedDomains: { name: string; isDefault: boolean; isInitial: boolean }[];
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
}

const GROUP_PAGE_SIZE = 50;

/** An OData `startswith` on the display name, with `prefix` as one string literal. */
export function startsWithFilter(prefix: string): string {
  return `startswith(displayName,'${prefix.replace(/'/g, "''")}')`;
}

/**
 * Microsoft Graph v1.0 through the official client (its retry handler honours 429/503/504 `Retry-After`).
 * Callers hand in a delegated access token; this class never sees refresh tokens.
 */
@Injectable()
export class GraphClient {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private client(accessToken: string): Client {
    return graphClient(this.config.entra.graphBaseUrl, accessToken);
  }

  async getOrganization(accessToken: string): Promise<TenantDetails> {
    const body = (await this.call(() =>
      withDeadline(
        this.client(accessToken).api('/organization').select('id,displayName,verifiedDomains'),
        this.config.entra.graphTimeoutMs,
      ).get(),
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

  /** A page of the tenant's groups, optionally those whose name starts with `search`. */
  async listGroups(
    accessToken: string,
    options: { search?: string; pageUrl?: string },
  ): Promise<{ groups: DirectoryGroup[]; nextPageUrl: string | null }> {
    const client = this.client(accessToken);
    let request;
    if (options.pageUrl) {
      // Only ever follow links back to our own Graph host (the link round-trips through clients).
      if (!options.pageUrl.startsWith(`${this.config.entra.graphBaseUrl}/v1.0/groups?`)) {
        throw new GraphRequestError(400, 'invalid_page_link', 'The page link is not a Graph groups link.');
      }
      request = client.api(options.pageUrl);
    } else {
      request = client.api('/groups').select('id,displayName').top(GROUP_PAGE_SIZE);
      // The graph client pastes `$filter` into the URL as given: encode the whole value, so `&`, `#` or `%`
      // in a search stay part of the name, and double quotes (OData's escape) so it stays one literal.
      if (options.search) request = request.filter(encodeURIComponent(startsWithFilter(options.search)));
    }
    const body = (await this.call(() => withDeadline(request, this.config.entra.graphTimeoutMs).get())) as {
      value?: { id: string; displayName?: string | null }[];
      '@odata.nextLink'?: string;
    };
    return {
      groups: (body.value ?? []).map((g) => ({ id: g.id, displayName: g.displayName ?? '' })),
      nextPageUrl: body['@odata.nextLink'] ?? null,
    };
  }

  /** One group, or null when the tenant has no group with this id. */
  async getGroup(accessToken: string, groupId: string): Promise<DirectoryGroup | null> {
    try {
      const body = (await this.call(() =>
        withDeadline(
          this.client(accessToken)
            .api(`/groups/${encodeURIComponent(groupId)}`)
            .select('id,displayName'),
          this.config.entra.graphTimeoutMs,
        ).get(),
      )) as { id: string; displayName?: string | null };
      return { id: body.id, displayName: body.displayName ?? '' };
    } catch (error) {
      if (error instanceof GraphRequestError && error.status === 404) return null;
      throw error;
    }
  }

  /** Every group (transitively) and directory role the user is a member of. */
  async getMemberObjectIds(accessToken: string, userObjectId: string): Promise<string[]> {
    const body = (await this.call(() =>
      withDeadline(
        this.client(accessToken).api(`/users/${encodeURIComponent(userObjectId)}/getMemberObjects`),
        this.config.entra.graphTimeoutMs,
      ).post({ securityEnabledOnly: false }),
    )) as { value?: string[] };
    return body.value ?? [];
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toGraphError(error);
    }
  }
}
