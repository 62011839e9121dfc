import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppLogger } from './app-logger.js';
import { runWithRequestContext } from './request-context.js';

function captured(write: { mock: { calls: unknown[][] } }): Record<string, unknown>[] {
  return write.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>);
}

describe('AppLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes JSON lines stamped with the current request id', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logger = new AppLogger('log');
    runWithRequestContext({ requestId: 'req-123' }, () => logger.log('inside a request', 'Test'));
    logger.log('outside', 'Test');
    const [inside, outside] = captured(write);
    expect(inside).toMatchObject({
      level: 'log',
      message: 'inside a request',
      context: 'Test',
      requestId: 'req-123',
    });
    expect(outside.requestId).toBeUndefined();
  });

  it('masks secret-named fields of structured values and honours the level', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logger = new AppLogger('log');
    logger.log(
      { message: 'token response', refresh_token: '0.AXEA-secret', nested: { accessToken: 'eyJ-secret' } },
      'Test',
    );
    logger.debug('too verbose', 'Test');
    const lines = captured(write);
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toContain('secret');
    expect(lines[0].message).toMatchObject({
      refresh_token: '[REDACTED]',
      nested: { accessToken: '[REDACTED]' },
    });
  });
});
