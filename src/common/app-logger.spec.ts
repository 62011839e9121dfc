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

  it('writes the access log of one turn of the event loop in one write, in order with other lines', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logger = new AppLogger('log');
    const record = (path: string) =>
      ({
        message: 'request',
        requestId: `id-${path}`,
        method: 'GET',
        path,
        status: 200,
        durationMs: 1,
      }) as const;
    logger.access(record('/a'));
    logger.access(record('/b'));
    expect(write).not.toHaveBeenCalled();
    await new Promise((resolve) => setImmediate(resolve));
    expect(write).toHaveBeenCalledTimes(1);
    const lines = String(write.mock.calls[0][0])
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'log', context: 'HTTP', requestId: 'id-/a', message: record('/a') }),
      expect.objectContaining({ level: 'log', context: 'HTTP', requestId: 'id-/b', message: record('/b') }),
    ]);
    // Another line first lets the queued access lines out, so the log keeps its order.
    logger.access(record('/c'));
    logger.warn('after /c', 'Test');
    expect(write).toHaveBeenCalledTimes(3);
    expect(JSON.parse(String(write.mock.calls[1][0])).message.path).toBe('/c');
    expect(JSON.parse(String(write.mock.calls[2][0])).message).toBe('after /c');
  });

  it('writes an access line exactly as JSON.stringify of the record would, also for a path that needs escaping', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(Date, 'now').mockReturnValue(1_767_000_000_000);
    const record = {
      message: 'request',
      requestId: 'req-1',
      method: 'DELETE',
      path: '/api/v1/users/"quoted"\\back\u2028é\n',
      status: 404,
      durationMs: 12,
    } as const;
    new AppLogger('log').access(record);
    await new Promise((resolve) => setImmediate(resolve));
    const expected = JSON.stringify({
      level: 'log',
      pid: process.pid,
      timestamp: 1_767_000_000_000,
      message: record,
      context: 'HTTP',
      requestId: 'req-1',
    });
    expect(String(write.mock.calls[0][0])).toBe(`${expected}\n`);
  });

  it('writes no access log below the log level', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    new AppLogger('warn').access({
      message: 'request',
      requestId: 'r',
      method: 'GET',
      path: '/',
      status: 200,
      durationMs: 0,
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(write).not.toHaveBeenCalled();
  });
});
