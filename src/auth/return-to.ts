/**
 * Keeps `returnTo` on our own UI: only a relative path is honoured. Anything that could leave the site
 * (absolute URLs, protocol-relative `//host`, backslash tricks, control characters) becomes `/`.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // Control characters let browsers reinterpret the path (e.g. a tab inside `/\t/evil`); refuse them.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  const base = 'http://return-to.invalid';
  try {
    const url = new URL(value, base);
    if (url.origin !== base) return '/';
    // Check what the browser will follow, after dot segments are resolved: `/..//evil.example` becomes
    // `//evil.example`, a protocol-relative URL to another host.
    const normalised = `${url.pathname}${url.search}${url.hash}`;
    if (normalised.startsWith('//') || normalised.startsWith('/\\')) return '/';
    return normalised;
  } catch {
    return '/';
  }
}
