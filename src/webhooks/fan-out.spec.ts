import { describe, expect, it } from 'vitest';
import { deliveriesToEnqueue } from './fan-out.js';

describe('deliveriesToEnqueue', () => {
  it('gives each endpoint one job, for its earliest delivery of the transaction', () => {
    const jobs = deliveriesToEnqueue([
      { id: 'a2', endpointId: 'a', seq: '12' },
      { id: 'b1', endpointId: 'b', seq: '9' },
      { id: 'a1', endpointId: 'a', seq: '10' },
      { id: 'b2', endpointId: 'b', seq: '100' },
      { id: 'c1', endpointId: 'c', seq: '11' },
    ]);
    expect(jobs.sort((x, y) => x.deliveryId.localeCompare(y.deliveryId))).toEqual([
      { deliveryId: 'a1', endpointId: 'a' },
      { deliveryId: 'b1', endpointId: 'b' },
      { deliveryId: 'c1', endpointId: 'c' },
    ]);
  });

  it('compares creation order as numbers, not as text', () => {
    expect(
      deliveriesToEnqueue([
        { id: 'ninth', endpointId: 'a', seq: '9' },
        { id: 'tenth', endpointId: 'a', seq: '10' },
      ]),
    ).toEqual([{ deliveryId: 'ninth', endpointId: 'a' }]);
  });

  it('sends no job when nothing was written', () => {
    expect(deliveriesToEnqueue([])).toEqual([]);
  });
});
