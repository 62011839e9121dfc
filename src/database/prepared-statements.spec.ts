import { describe, expect, it } from 'vitest';
import { MAX_NAMED_STATEMENTS, statementName } from './prepared-statements.js';

describe('statementName', () => {
  it('names a text the same way every time, and two texts differently', () => {
    const page = 'SELECT id FROM users u WHERE u.organization_id = $1 LIMIT 51';
    const name = statementName(page);
    expect(name).toBe(statementName(`${page}`));
    expect(name).not.toBe(statementName(page.replace('51', '11')));
    // PostgreSQL truncates identifiers at 63 bytes: a longer name would silently collide.
    expect(name?.length).toBeLessThanOrEqual(63);
  });

  it('names a bounded number of texts: past the bound a new text goes out unnamed, named ones keep theirs', () => {
    const first = statementName('SELECT 1');
    expect(first).toBeDefined();
    for (let i = 0; i < MAX_NAMED_STATEMENTS; i++) statementName(`SELECT ${i + 2}`);
    expect(statementName(`SELECT ${MAX_NAMED_STATEMENTS + 100}`)).toBeUndefined();
    expect(statementName('SELECT 1')).toBe(first);
  });
});
