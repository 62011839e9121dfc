import { describe, expect, it } from 'vitest';
import * as protocol from './index.js';

describe('the protocol library’s public names', () => {
  it('exports every value the shared SCIM design fixes', () => {
    const names = [
      'SCIM_CONTENT_TYPE',
      'SCHEMAS',
      'ScimError',
      'scimErrorBody',
      'compileFilter',
      'parseFilter',
      'equalityOn',
      'normalisePatch',
      'applyPatch',
      'coerceBoolean',
      'listResponse',
      'parsePaging',
      'project',
      'FILTER_MAX_RESULTS',
      'serviceProviderConfig',
      'resourceTypes',
      'schemaDocuments',
    ];
    for (const name of names) expect(protocol, name).toHaveProperty(name);
    expect(protocol.SCIM_CONTENT_TYPE).toBe('application/scim+json');
    expect(protocol.FILTER_MAX_RESULTS).toBe(200);
    expect(protocol.SCHEMAS).toEqual({
      USER: 'urn:ietf:params:scim:schemas:core:2.0:User',
      ENTERPRISE_USER: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      GROUP: 'urn:ietf:params:scim:schemas:core:2.0:Group',
      PRODUCT_USER: 'urn:entra-integration:params:scim:schemas:extension:product:2.0:User',
      LIST: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
      PATCH_OP: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
      ERROR: 'urn:ietf:params:scim:api:messages:2.0:Error',
    });
  });
});
