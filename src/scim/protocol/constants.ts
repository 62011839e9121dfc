/** Media type of every SCIM response (RFC 7644 §8.1); requests may also come as application/json. */
export const SCIM_CONTENT_TYPE = 'application/scim+json';

export const SCHEMAS = {
  USER: 'urn:ietf:params:scim:schemas:core:2.0:User',
  ENTERPRISE_USER: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  GROUP: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  /** Our extension: what the product adds to a user (its product status and role). */
  PRODUCT_USER: 'urn:entra-integration:params:scim:schemas:extension:product:2.0:User',
  LIST: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  PATCH_OP: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  ERROR: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

/** The most resources one list page returns (advertised as `filter.maxResults`; larger `count` is capped). */
export const FILTER_MAX_RESULTS = 200;
