/** PostgreSQL's unique_violation: the database's last word when two requests race for the same key. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}
