import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './return-to.js';

describe('safeReturnTo', () => {
  it.each([
    ['/assets', '/assets'],
    ['/assets?tab=1#top', '/assets?tab=1#top'],
    ['/a/../b', '/b'],
  ])('keeps the relative path %s', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });

  it.each([
    'https://evil.example',
    '//evil.example',
    '/..//evil.example',
    '/a/../..//evil.example/path',
    '/./\\/evil.example',
    '/%2e%2e//evil.example',
    '/\\evil.example',
    'javascript:alert(1)',
    'assets',
    '/\tevil',
    '',
    undefined,
    ['/a'],
    `/${'a'.repeat(3000)}`,
  ])('turns %s into /', (input) => {
    expect(safeReturnTo(input)).toBe('/');
  });
});
