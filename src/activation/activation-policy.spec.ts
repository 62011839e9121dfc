import { describe, expect, it } from 'vitest';
import { type ArrivalFacts, placeArrival, seatsToRelease } from './activation-policy.js';

const fromDirectory: ArrivalFacts = {
  route: 'directory',
  requiresApproval: false,
  seatLimit: 3,
  seatsUsed: 1,
  queued: 0,
};
const full = { seatLimit: 3, seatsUsed: 3 };

describe('placeArrival', () => {
  it('holds an arrival that needs approval, even with seats free', () => {
    expect(placeArrival({ ...fromDirectory, requiresApproval: true })).toEqual({
      status: 'pending',
      reason: 'awaiting_approval',
    });
  });

  it('activates a directory arrival when a seat is free and nobody is queued', () => {
    expect(placeArrival(fromDirectory)).toEqual({ status: 'active' });
  });

  it('queues a directory arrival when every seat is taken', () => {
    expect(placeArrival({ ...fromDirectory, ...full })).toEqual({
      status: 'pending',
      reason: 'awaiting_seat',
    });
  });

  it('queues a directory arrival behind those already waiting, even when a seat just freed', () => {
    expect(placeArrival({ ...fromDirectory, seatsUsed: 2, queued: 1 })).toEqual({
      status: 'pending',
      reason: 'awaiting_seat',
    });
  });

  it('never holds a SCIM arrival for approval, and queues it like the directory when seats are taken', () => {
    const pushed = { ...fromDirectory, route: 'scim' as const, requiresApproval: true };
    expect(placeArrival(pushed)).toEqual({ status: 'active' });
    expect(placeArrival({ ...pushed, ...full })).toEqual({ status: 'pending', reason: 'awaiting_seat' });
    expect(placeArrival({ ...pushed, seatsUsed: 2, queued: 1 })).toEqual({
      status: 'pending',
      reason: 'awaiting_seat',
    });
  });

  it('seats an invitation on a free seat ahead of the queue, and refuses it when none is free', () => {
    const invited = { ...fromDirectory, route: 'invitation' as const, queued: 4 };
    expect(placeArrival(invited)).toEqual({ status: 'active' });
    expect(placeArrival({ ...invited, ...full })).toEqual({
      status: 'refused',
      reason: 'seat_limit_reached',
    });
  });
});

describe('seatsToRelease', () => {
  it('is every free seat, but no more than are waiting', () => {
    expect(seatsToRelease({ seatLimit: 5, seatsUsed: 2, queued: 10 })).toBe(3);
    expect(seatsToRelease({ seatLimit: 5, seatsUsed: 2, queued: 1 })).toBe(1);
  });

  it('is zero with no free seat or nobody waiting, even above the limit', () => {
    expect(seatsToRelease({ seatLimit: 5, seatsUsed: 5, queued: 4 })).toBe(0);
    expect(seatsToRelease({ seatLimit: 2, seatsUsed: 5, queued: 4 })).toBe(0);
    expect(seatsToRelease({ seatLimit: 5, seatsUsed: 0, queued: 0 })).toBe(0);
  });
});
