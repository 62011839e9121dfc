import { describe, expect, it } from 'vitest';
import { normalizeDomains } from './domain-claims.service.js';

describe('domains to claim', () => {
  it('are lower-cased and trimmed, keep the first spelling, and are listed once in the source’s order', () => {
    expect(
      normalizeDomains([
        { name: ' Contoso.onmicrosoft.com ', isInitial: true },
        { name: 'contoso.com', isDefault: true },
        { name: 'CONTOSO.com' },
        { name: '  ' },
      ]),
    ).toEqual([
      {
        domain: 'contoso.onmicrosoft.com',
        displayName: 'Contoso.onmicrosoft.com',
        isDefault: false,
        isInitial: true,
        position: 0,
      },
      { domain: 'contoso.com', displayName: 'contoso.com', isDefault: true, isInitial: false, position: 1 },
    ]);
  });
});
