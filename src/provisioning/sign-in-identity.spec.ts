import { describe, expect, it } from 'vitest';
import type { VerifiedIdToken } from '../microsoft/microsoft-identity.client.js';
import { signInDomains } from './sign-in-identity.js';

const token = (overrides: Partial<VerifiedIdToken>): VerifiedIdToken => ({
  tenantId: 'tenant',
  objectId: 'object',
  issuer: 'issuer',
  preferredUsername: null,
  name: null,
  email: null,
  emailDomainVerified: false,
  groups: null,
  groupsOverage: false,
  directoryRoleTemplateIds: null,
  isGuest: false,
  authTime: null,
  ...overrides,
});

describe('the domains a sign-in is matched on', () => {
  it('is the UPN’s domain, lower-cased', () => {
    expect(signInDomains(token({ preferredUsername: 'Megan@Contoso.COM' }))).toEqual(['contoso.com']);
  });

  it('adds the email’s domain only when its owner verified it (xms_edov), each domain once', () => {
    expect(
      signInDomains(
        token({ preferredUsername: 'megan@contoso.onmicrosoft.com', email: 'megan@contoso.com' }),
      ),
    ).toEqual(['contoso.onmicrosoft.com']);
    expect(
      signInDomains(
        token({
          preferredUsername: 'megan@contoso.onmicrosoft.com',
          email: 'megan@contoso.com',
          emailDomainVerified: true,
        }),
      ),
    ).toEqual(['contoso.onmicrosoft.com', 'contoso.com']);
    expect(
      signInDomains(
        token({
          preferredUsername: 'megan@contoso.com',
          email: 'Megan@CONTOSO.com',
          emailDomainVerified: true,
        }),
      ),
    ).toEqual(['contoso.com']);
  });

  it('is empty without an address', () => {
    expect(signInDomains(token({ preferredUsername: 'megan' }))).toEqual([]);
  });
});
