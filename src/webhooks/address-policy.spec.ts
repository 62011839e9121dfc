import { describe, expect, it } from 'vitest';
import { isPublicAddress, urlProblem } from './address-policy.js';

describe('webhook address policy', () => {
  it('refuses loopback, private, link-local, metadata and mapped forms', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:169.254.169.254',
    ])
      expect(isPublicAddress(address), address).toBe(false);
    for (const address of ['93.184.216.34', '2606:4700::1111', '8.8.8.8'])
      expect(isPublicAddress(address), address).toBe(true);
  });

  it('accepts public https URLs only, unless private URLs are allowed (development)', () => {
    expect(urlProblem('https://hooks.example.com/in', false)).toBeNull();
    expect(urlProblem('http://hooks.example.com/in', false)).toBe('must be https');
    expect(urlProblem('https://127.0.0.1/in', false)).toMatch(/loopback/);
    expect(urlProblem('https://[::1]/in', false)).toMatch(/loopback/);
    expect(urlProblem('https://169.254.169.254/latest', false)).toMatch(/loopback/);
    expect(urlProblem('https://localhost/in', false)).toBe('must name a public host');
    expect(urlProblem('https://user:pw@hooks.example.com/', false)).toBe('must not carry credentials');
    expect(urlProblem('ftp://hooks.example.com/', true)).toBe('must be https');
    expect(urlProblem('not a url', true)).toBe('is not a URL');
    expect(urlProblem('http://127.0.0.1:8080/in', true)).toBeNull();
  });
});
