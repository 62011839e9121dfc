import { describe, expect, it } from 'vitest';
import { FILTER_MAX_RESULTS, SCHEMAS } from './constants.js';
import { resourceTypes, schemaDocuments, serviceProviderConfig } from './discovery.js';

const BASE = 'https://app.example.com/scim/v2';

interface Attribute {
  name: string;
  type: string;
  multiValued: boolean;
  mutability: string;
  returned: string;
  uniqueness: string;
  caseExact: boolean;
  required: boolean;
  description: string;
  subAttributes?: Attribute[];
}

function attributesOf(id: string): Attribute[] {
  const schema = schemaDocuments(BASE).find((s) => (s as { id: string }).id === id) as {
    attributes: Attribute[];
  };
  return schema.attributes;
}

describe('serviceProviderConfig', () => {
  it('states what the service supports', () => {
    expect(serviceProviderConfig(`${BASE}/`)).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: FILTER_MAX_RESULTS },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: true },
      authenticationSchemes: [{ type: 'oauthbearertoken', primary: true }],
      meta: { resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` },
    });
  });

  it('states the request body limit it is given', () => {
    expect(serviceProviderConfig(BASE, { maxPayloadSize: 1_048_576 })).toMatchObject({
      bulk: { supported: false, maxPayloadSize: 1_048_576 },
    });
  });
});

describe('resourceTypes', () => {
  it('lists Users first with the enterprise and product extensions, then Groups', () => {
    const [users, groups] = resourceTypes(BASE) as Record<string, unknown>[];
    expect(users).toMatchObject({
      id: 'User',
      endpoint: '/Users',
      schema: SCHEMAS.USER,
      schemaExtensions: [
        { schema: SCHEMAS.ENTERPRISE_USER, required: false },
        { schema: SCHEMAS.PRODUCT_USER, required: false },
      ],
      meta: { location: `${BASE}/ResourceTypes/User` },
    });
    expect(groups).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: SCHEMAS.GROUP });
  });
});

describe('schemaDocuments', () => {
  it('has the User (described as "User Account"), EnterpriseUser, Group and product schemas', () => {
    const documents = schemaDocuments(BASE) as {
      id: string;
      description: string;
      meta: { location: string };
    }[];
    expect(documents.map((d) => d.id)).toEqual([
      SCHEMAS.USER,
      SCHEMAS.ENTERPRISE_USER,
      SCHEMAS.GROUP,
      SCHEMAS.PRODUCT_USER,
    ]);
    expect(documents[0].description).toContain('User Account');
    expect(documents[0].meta.location).toBe(`${BASE}/Schemas/${SCHEMAS.USER}`);
  });

  it('describes every attribute with the characteristics of RFC 7643 §7', () => {
    const walk = (attributes: Attribute[]): void => {
      for (const attribute of attributes) {
        expect([
          'string',
          'boolean',
          'decimal',
          'integer',
          'dateTime',
          'reference',
          'binary',
          'complex',
        ]).toContain(attribute.type);
        expect(['readOnly', 'readWrite', 'immutable', 'writeOnly']).toContain(attribute.mutability);
        expect(['always', 'never', 'default', 'request']).toContain(attribute.returned);
        expect(['none', 'server', 'global']).toContain(attribute.uniqueness);
        expect(typeof attribute.caseExact).toBe('boolean');
        expect(typeof attribute.required).toBe('boolean');
        expect(typeof attribute.multiValued).toBe('boolean');
        expect(attribute.description.length).toBeGreaterThan(5);
        if (attribute.type === 'complex') walk(attribute.subAttributes ?? []);
      }
    };
    for (const id of Object.values(SCHEMAS).slice(0, 4)) walk(attributesOf(id));
  });

  it('says userName is required and unique, password never returned, emails multi-valued', () => {
    const user = attributesOf(SCHEMAS.USER);
    expect(user.find((a) => a.name === 'userName')).toMatchObject({ required: true, uniqueness: 'server' });
    expect(user.find((a) => a.name === 'password')).toMatchObject({
      mutability: 'writeOnly',
      returned: 'never',
    });
    expect(user.find((a) => a.name === 'emails')).toMatchObject({ multiValued: true, type: 'complex' });
    expect(attributesOf(SCHEMAS.GROUP).find((a) => a.name === 'members')).toMatchObject({
      multiValued: true,
    });
  });

  it('hands out copies, so a caller changing one document does not change the next', () => {
    (attributesOf(SCHEMAS.USER)[0] as { description: string }).description = 'changed';
    expect(attributesOf(SCHEMAS.USER)[0].description).not.toBe('changed');
  });

  it('describes our product extension as read-only status, pendingReason and role', () => {
    const product = attributesOf(SCHEMAS.PRODUCT_USER);
    expect(product.map((a) => [a.name, a.mutability])).toEqual([
      ['status', 'readOnly'],
      ['pendingReason', 'readOnly'],
      ['role', 'readOnly'],
    ]);
    expect(product[0]).toMatchObject({ canonicalValues: ['active', 'pending', 'deactivated'] });
  });
});
