import { FILTER_MAX_RESULTS, SCHEMAS } from './constants.js';
import { SCHEMA_DEFINITIONS } from './schemas.js';

const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

function trim(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/**
 * `/ServiceProviderConfig` (RFC 7643 §5): what this service supports. `maxPayloadSize`: the request body limit in
 * bytes the edge enforces (413 beyond), stated under `bulk` as RFC 7643 has no other field for it.
 */
export function serviceProviderConfig(baseUrl: string, options: { maxPayloadSize?: number } = {}): object {
  const base = trim(baseUrl);
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    documentationUri: `${base}/Schemas`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: options.maxPayloadSize ?? 0 },
    filter: { supported: true, maxResults: FILTER_MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description:
          'A long-lived secret token created by an Owner or Admin of the organization, sent as Authorization: Bearer <token>.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

/** `/ResourceTypes` (RFC 7643 §6): Users first (Microsoft's collection checks it), then Groups. */
export function resourceTypes(baseUrl: string): object[] {
  const base = trim(baseUrl);
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: SCHEMAS.USER,
      schemaExtensions: [
        { schema: SCHEMAS.ENTERPRISE_USER, required: false },
        { schema: SCHEMAS.PRODUCT_USER, required: false },
      ],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: SCHEMAS.GROUP,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

/** `/Schemas` (RFC 7643 §7): User (description "User Account"), EnterpriseUser, Group, and our product extension. */
export function schemaDocuments(baseUrl: string): object[] {
  const base = trim(baseUrl);
  return SCHEMA_DEFINITIONS.map((schema) => ({
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    // A copy: a caller decorating its response must not change the next one.
    attributes: structuredClone(schema.attributes),
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${schema.id}` },
  }));
}
