/**
 * PostgreSQL's unique_violation: the database's last word when two requests race for the same key. Only
 * repositories look at driver errors; they translate them into their module's domain errors.
 */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** The unique index or constraint a unique_violation names. */
function violatedConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown; driverError?: { constraint?: unknown } } | null) ?? {};
  const name = constraint.constraint ?? constraint.driverError?.constraint;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Runs a write and turns a unique_violation into what `translate` answers for the violated constraint (a
 * domain error to throw); `undefined` lets the original error through.
 */
export async function translateUniqueViolation<T>(
  write: Promise<T>,
  translate: (constraint: string | undefined) => Error | undefined,
): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error)) throw translate(violatedConstraint(error)) ?? error;
    throw error;
  }
}
