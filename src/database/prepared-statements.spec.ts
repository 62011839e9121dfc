import { describe, expect, it } from 'vitest';
import { statementName } from './prepared-statements.js';

describe('statementName', () => {
  it('names a text the same way every time, and two texts differently', () => {
    const page = 'SELECT id FROM users u WHERE u.organization_id = $1 LIMIT 51';
    expect(statementName(page)).toBe(statementName(`${page}`));
    expect(statementName(page)).not.toBe(statementName(page.replace('51', '11')));
    // PostgreSQL truncates identifiers at 63 bytes: a longer name would silently collide.
    expect(statementName(page).length).toBeLessThanOrEqual(63);
  });
});
