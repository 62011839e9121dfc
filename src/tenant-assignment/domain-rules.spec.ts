import { describe, expect, it } from 'vitest';
import { domainProblem, isFreshSignIn, normalizeAssignmentDomains } from './domain-rules.js';

describe('domains a tenant assignment may publish', () => {
  it('accepts exact DNS names, subdomains and IDNA labels', () => {
    for (const name of [
      'acme.com',
      'eu.acme.com',
      'acme-consulting.co.uk',
      'contoso.onmicrosoft.com',
      'xn--bcher-kva.de',
    ])
      expect(domainProblem(name)).toBeNull();
  });

  it('refuses wildcards, single labels, addresses, IPs and malformed labels', () => {
    for (const name of [
      '*.acme.com',
      'acme',
      'megan@acme.com',
      '10.0.0.1',
      '-acme.com',
      'acme-.com',
      'ac me.com',
      'acme..com',
      'acme.com.',
      `${'a'.repeat(64)}.com`,
    ])
      expect(domainProblem(name)).not.toBeNull();
  });

  it('refuses public mail domains, but not names that merely contain them', () => {
    for (const name of ['outlook.com', 'gmail.com', 'hotmail.com', 'yahoo.com', 'onmicrosoft.com'])
      expect(domainProblem(name)).toBe('is a public mail domain');
    expect(domainProblem('gmail.com.acme.com')).toBeNull();
    expect(domainProblem('notgmail.com')).toBeNull();
  });

  it('normalises case and spacing, keeps order, drops repeats, and names every offending entry', () => {
    expect(normalizeAssignmentDomains([' Acme.COM ', 'eu.acme.com', 'acme.com'])).toEqual({
      domains: ['acme.com', 'eu.acme.com'],
      errors: [],
    });
    expect(normalizeAssignmentDomains(['acme.com', 'Gmail.com', '*.acme.com']).errors).toEqual([
      { field: 'domains[1]', message: '"Gmail.com" is a public mail domain' },
      { field: 'domains[2]', message: '"*.acme.com" wildcards are not allowed: list each domain exactly' },
    ]);
  });
});

describe('a fresh sign-in', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
  const tenMinutes = 10 * 60_000;

  it('is one whose auth_time is within the window', () => {
    expect(isFreshSignIn({ authTime: ago(9) }, now, tenMinutes)).toBe(true);
    expect(isFreshSignIn({ authTime: ago(11) }, now, tenMinutes)).toBe(false);
  });

  it('falls back to iat only when auth_time is absent', () => {
    expect(isFreshSignIn({ authTime: null, issuedAt: ago(1) }, now, tenMinutes)).toBe(true);
    expect(isFreshSignIn({ authTime: ago(60), issuedAt: ago(1) }, now, tenMinutes)).toBe(false);
    expect(isFreshSignIn({ authTime: null, issuedAt: null }, now, tenMinutes)).toBe(false);
  });

  it('is not one dated far in the future', () => {
    expect(isFreshSignIn({ authTime: new Date(now.getTime() + 3_600_000) }, now, tenMinutes)).toBe(false);
  });
});
