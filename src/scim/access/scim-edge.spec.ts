import { describe, expect, it } from 'vitest';
import { canonicalScimUrl, resourceOfPath } from './scim-edge.js';
import { withoutSecrets } from './scim-request-log.js';

describe('the SCIM edge', () => {
  it('puts endpoint names in canonical case and drops Entra’s compliance flag, keeping the rest', () => {
    expect(canonicalScimUrl('/scim/v2/users?filter=userName%20eq%20%22a%22&aadOptscim062020')).toBe(
      '/scim/v2/Users?filter=userName%20eq%20%22a%22',
    );
    expect(canonicalScimUrl('/GROUPS/abc?AADOPTSCIM062020=1&excludedAttributes=members')).toBe(
      '/Groups/abc?excludedAttributes=members',
    );
    expect(canonicalScimUrl('/serviceproviderconfig')).toBe('/ServiceProviderConfig');
    // An id keeps its case; an unknown endpoint stays as sent (and answers 404).
    expect(canonicalScimUrl('/scim/v2/Users/AbC-1')).toBe('/scim/v2/Users/AbC-1');
    expect(canonicalScimUrl('/scim/v2/devices')).toBe('/scim/v2/devices');
    // Empty query pairs go, also from an otherwise canonical URL; a canonical one comes back as it is.
    expect(canonicalScimUrl('/scim/v2/Users?filter=a&&count=1&')).toBe('/scim/v2/Users?filter=a&count=1');
    expect(canonicalScimUrl('/scim/v2/Users?')).toBe('/scim/v2/Users');
    expect(canonicalScimUrl('/scim/v2/Users?count=1&AadOptScim062020')).toBe('/scim/v2/Users?count=1');
    expect(canonicalScimUrl('/SCIM/V2/Users/AbC?x=1')).toBe('/scim/v2/Users/AbC?x=1');
    expect(canonicalScimUrl('/scim/v2/.search')).toBe('/scim/v2/.search');
    expect(canonicalScimUrl('/scim/v2/Users?filter=a%20eq%20b')).toBe('/scim/v2/Users?filter=a%20eq%20b');
  });

  it('names the resource a path addresses', () => {
    expect(resourceOfPath('/scim/v2/Users/8d0f6b2a')).toEqual({ type: 'User', id: '8d0f6b2a' });
    expect(resourceOfPath('/scim/v2/Groups')).toEqual({ type: 'Group', id: null });
    expect(resourceOfPath('/scim/v2/Schemas/urn:x')).toBeNull();
  });
});

describe('the provisioning log’s copy of a request body', () => {
  it('drops every attribute named like a secret, at any depth, and the value of a PATCH that sets one', () => {
    expect(
      withoutSecrets({
        userName: 'megan@contoso.com',
        password: 'Secr3t!',
        'urn:x:ext': { apiToken: 'abc', title: 'Engineer' },
        Operations: [
          { op: 'replace', path: 'password', value: 'An0ther' },
          { op: 'replace', value: { password: 'Th1rd', active: false } },
        ],
      }),
    ).toEqual({
      userName: 'megan@contoso.com',
      'urn:x:ext': { title: 'Engineer' },
      Operations: [
        { op: 'replace', path: 'password' },
        { op: 'replace', value: { active: false } },
      ],
    });
  });

  it('keeps no body, and a marker instead of a huge one', () => {
    expect(withoutSecrets(undefined)).toBeNull();
    expect(withoutSecrets({ members: 'x'.repeat(40_000) })).toEqual({ truncated: true, characters: 40_014 });
  });
});
