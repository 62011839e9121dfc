import { describe, expect, it } from 'vitest';
import { databaseOutage } from './database-outage.js';

function pgError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('databaseOutage', () => {
  it('names an unreachable, restarting or dropped database in one line', () => {
    expect(databaseOutage(pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(
      'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(databaseOutage(pgError('terminating connection due to administrator command', '57P01'))).toBe(
      '57P01: terminating connection due to administrator command',
    );
    expect(databaseOutage(pgError('database "app" does not exist', '3D000'))).toBe(
      '3D000: database "app" does not exist',
    );
    expect(databaseOutage(new Error('Connection terminated unexpectedly\n    at Client.<anonymous>'))).toBe(
      'Connection terminated unexpectedly',
    );
    // TypeORM wraps the driver's error and keeps its code beside it.
    const wrapped = Object.assign(new Error('the database system is starting up'), {
      driverError: { code: '57P03' },
    });
    expect(databaseOutage(wrapped)).toBe('57P03: the database system is starting up');
  });

  it('leaves every other failure to be reported in full', () => {
    expect(
      databaseOutage(pgError('duplicate key value violates unique constraint', '23505')),
    ).toBeUndefined();
    expect(databaseOutage(pgError('column "x" does not exist', '42703'))).toBeUndefined();
    expect(
      databaseOutage(new TypeError("Cannot read properties of undefined (reading 'id')")),
    ).toBeUndefined();
    expect(databaseOutage('a string')).toBeUndefined();
  });
});
