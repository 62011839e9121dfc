import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { databaseOutage } from './database-errors.js';

const pgError = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('databaseOutage: an outage, not a refusal', () => {
  it('names an unreachable, restarting, full, dropped or too slow database in one line', () => {
    expect(databaseOutage(pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(
      'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432',
    );
    // Node names a refused connection to every address of `localhost` in one AggregateError.
    expect(databaseOutage(Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }))).toBe(
      'ECONNREFUSED: ',
    );
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE'])
      expect(databaseOutage(pgError('socket', code)), code).toBe(`${code}: socket`);
    expect(databaseOutage(pgError('terminating connection due to administrator command', '57P01'))).toBe(
      '57P01: terminating connection due to administrator command',
    );
    expect(databaseOutage(pgError('database "app" does not exist', '3D000'))).toBe(
      '3D000: database "app" does not exist',
    );
    expect(databaseOutage(pgError('sorry, too many clients already', '53300'))).toBe(
      '53300: sorry, too many clients already',
    );
    for (const code of ['08006', '08001', '08P01'])
      expect(databaseOutage(pgError('connection failure', code)), code).toBe(`${code}: connection failure`);
    for (const message of [
      'timeout exceeded when trying to connect',
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'Client has encountered a connection error and is not queryable',
    ])
      expect(databaseOutage(new Error(`${message}\n    at Client.<anonymous>`)), message).toBe(message);
  });

  it('reads the driver’s code as TypeORM keeps it: copied onto a QueryFailedError, or beside its own error', () => {
    const timedOut = new QueryFailedError(
      'SELECT 1',
      [],
      pgError('canceling statement due to statement timeout', '57014'),
    );
    expect(databaseOutage(timedOut)).toBe('57014: canceling statement due to statement timeout');
    const wrapped = Object.assign(new Error('the database system is starting up'), {
      driverError: { code: '57P03' },
    });
    expect(databaseOutage(wrapped)).toBe('57P03: the database system is starting up');
  });

  it('leaves what the database refused, and every other failure, to be reported in full', () => {
    for (const code of ['23505', '23503', '22P02', '42703', '40P01'])
      expect(databaseOutage(pgError('refused', code)), code).toBeUndefined();
    expect(
      databaseOutage(new TypeError("Cannot read properties of undefined (reading 'id')")),
    ).toBeUndefined();
    expect(databaseOutage(new Error('the connection terminated the sentence'))).toBeUndefined();
    expect(databaseOutage('ECONNREFUSED')).toBeUndefined();
    expect(databaseOutage(undefined)).toBeUndefined();
  });
});
