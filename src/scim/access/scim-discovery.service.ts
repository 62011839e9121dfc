import { Injectable } from '@nestjs/common';
import {
  listResponse,
  resourceTypes,
  schemaDocuments,
  ScimError,
  serviceProviderConfig,
} from '../protocol/index.js';
import { ScimAccessService } from './scim-access.service.js';
import { SCIM_MAX_PAYLOAD_BYTES } from './scim-edge.js';

type Document = { id?: string } & Record<string, unknown>;

/** The discovery documents of RFC 7644 §4, from the protocol library, located under this service's Tenant URL. */
@Injectable()
export class ScimDiscoveryService {
  constructor(private readonly access: ScimAccessService) {}

  serviceProviderConfig(): object {
    // The request body limit the edge enforces (413 beyond), stated where RFC 7643 has a place for it.
    return serviceProviderConfig(this.access.tenantUrl, { maxPayloadSize: SCIM_MAX_PAYLOAD_BYTES });
  }

  resourceTypes(): object {
    return this.list(resourceTypes(this.access.tenantUrl) as Document[]);
  }

  resourceType(id: string): object {
    return this.one(resourceTypes(this.access.tenantUrl) as Document[], id, 'resource type');
  }

  schemas(): object {
    return this.list(schemaDocuments(this.access.tenantUrl) as Document[]);
  }

  schema(id: string): object {
    return this.one(schemaDocuments(this.access.tenantUrl) as Document[], id, 'schema');
  }

  private list(documents: Document[]): object {
    return listResponse(documents, documents.length, 1);
  }

  private one(documents: Document[], id: string, what: string): object {
    // Schema URNs are case-insensitive (RFC 7643 §2.1); resource type ids are matched the same way.
    const found = documents.find((d) => d.id?.toLowerCase() === id.toLowerCase());
    if (!found) throw new ScimError(404, `No ${what} ${id}.`);
    return found;
  }
}
