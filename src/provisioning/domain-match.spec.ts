import { describe, expect, it } from 'vitest';
import { domainOf, isOnVerifiedDomain } from './domain-match.js';

const domains = [{ name: 'Contoso.com' }, { name: 'contoso.onmicrosoft.com' }];

describe('verified domain matching', () => {
  it('matches the whole domain, ignoring case', () => {
    expect(isOnVerifiedDomain('megan@contoso.com', domains)).toBe(true);
    expect(isOnVerifiedDomain('Megan@CONTOSO.COM', domains)).toBe(true);
    expect(isOnVerifiedDomain('megan@Contoso.OnMicrosoft.com', domains)).toBe(true);
  });

  it('never matches subdomains, parents or look-alikes', () => {
    expect(isOnVerifiedDomain('megan@eu.contoso.com', domains)).toBe(false);
    expect(isOnVerifiedDomain('megan@com', domains)).toBe(false);
    expect(isOnVerifiedDomain('megan@contoso.com.evil.example', domains)).toBe(false);
    expect(isOnVerifiedDomain('megan@notcontoso.com', domains)).toBe(false);
  });

  it('matches a verified subdomain only when it is verified itself', () => {
    expect(isOnVerifiedDomain('megan@eu.contoso.com', [...domains, { name: 'EU.contoso.com' }])).toBe(true);
  });

  it('rejects what is not an address', () => {
    for (const value of [null, undefined, '', 'contoso.com', '@contoso.com', 'megan@']) {
      expect(isOnVerifiedDomain(value, domains)).toBe(false);
    }
    expect(domainOf('a@b@Contoso.com')).toBe('contoso.com');
  });
});
