import { describe, expect, it } from 'vitest';
import { domainOf } from './domain-match.js';

describe('the domain of an address', () => {
  it('is the whole domain after the last @, lower-cased', () => {
    expect(domainOf('megan@contoso.com')).toBe('contoso.com');
    expect(domainOf('Megan@CONTOSO.COM')).toBe('contoso.com');
    expect(domainOf('megan@Contoso.OnMicrosoft.com')).toBe('contoso.onmicrosoft.com');
    expect(domainOf('a@b@Contoso.com')).toBe('contoso.com');
  });

  it('keeps subdomains and look-alikes whole, so they never equal the parent domain', () => {
    expect(domainOf('megan@eu.contoso.com')).toBe('eu.contoso.com');
    expect(domainOf('megan@contoso.com.evil.example')).toBe('contoso.com.evil.example');
    expect(domainOf('megan@notcontoso.com')).toBe('notcontoso.com');
  });

  it('is null for what is not an address', () => {
    for (const value of [null, undefined, '', 'contoso.com', '@contoso.com', 'megan@']) {
      expect(domainOf(value)).toBeNull();
    }
  });
});
