import type pg from 'pg';

/** An organization whose kept seat counts differ from a fresh count of its users. */
export interface SeatCountDrift {
  id: string;
  seats_used: number;
  active: number;
  seat_queue_length: number;
  queued: number;
}

/**
 * Every organization whose `seats_used` / `seat_queue_length` differ from a fresh count of its users (none, when
 * the counts are kept right). Test files that change statuses check it after each test.
 */
export async function seatCountDrift(sql: pg.Pool): Promise<SeatCountDrift[]> {
  const { rows } = await sql.query<SeatCountDrift>(
    `SELECT o.id, o.seats_used, COALESCE(c.active, 0) AS active,
            o.seat_queue_length, COALESCE(c.queued, 0) AS queued
       FROM organizations o
       LEFT JOIN (SELECT organization_id,
                         count(*) FILTER (WHERE status = 'active')::int AS active,
                         count(*) FILTER (WHERE status = 'pending' AND pending_reason = 'awaiting_seat')::int AS queued
                    FROM users GROUP BY organization_id) c ON c.organization_id = o.id
      WHERE o.seats_used <> COALESCE(c.active, 0) OR o.seat_queue_length <> COALESCE(c.queued, 0)`,
  );
  return rows;
}
