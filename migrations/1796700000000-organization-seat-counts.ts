import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The organization's seat counts on its own row: `seats_used` (active users, each holding a seat) and
 * `seat_queue_length` (users pending `awaiting_seat`). The activation policy reads them under the
 * organization's row lock instead of counting the organization's users on every arrival and deactivation.
 *
 * Triggers on `users` keep them, in the statement (so the transaction) of the change, for every way a status
 * changes: an insert, an update of `status`, `pending_reason` or `organization_id` (entity saves and the
 * directory sync's bulk UPDATE alike), a delete — whichever module or script writes it. Every writer that may change a status takes the organization lock first (the
 * activation policy, deactivations), so the trigger's update of the already locked row adds no lock order.
 */
export class OrganizationSeatCounts1796700000000 implements MigrationInterface {
  name = 'OrganizationSeatCounts1796700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "organizations" ADD "seats_used" integer NOT NULL DEFAULT 0');
    await queryRunner.query('ALTER TABLE "organizations" ADD "seat_queue_length" integer NOT NULL DEFAULT 0');
    // One statement-level trigger per operation over its transition tables: a bulk write (the directory sync's
    // deactivations, an import) updates each organization row once, not once per user.
    await queryRunner.query(`CREATE FUNCTION users_seat_counts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE organizations o SET seats_used = o.seats_used + d.seats, seat_queue_length = o.seat_queue_length + d.queued
            FROM (SELECT organization_id,
                         count(*) FILTER (WHERE status = 'active')::int AS seats,
                         count(*) FILTER (WHERE status = 'pending' AND pending_reason = 'awaiting_seat')::int AS queued
                    FROM new_rows GROUP BY organization_id) d
           WHERE o.id = d.organization_id AND (d.seats <> 0 OR d.queued <> 0);
        ELSIF TG_OP = 'DELETE' THEN
          UPDATE organizations o SET seats_used = o.seats_used - d.seats, seat_queue_length = o.seat_queue_length - d.queued
            FROM (SELECT organization_id,
                         count(*) FILTER (WHERE status = 'active')::int AS seats,
                         count(*) FILTER (WHERE status = 'pending' AND pending_reason = 'awaiting_seat')::int AS queued
                    FROM old_rows GROUP BY organization_id) d
           WHERE o.id = d.organization_id AND (d.seats <> 0 OR d.queued <> 0);
        ELSE
          UPDATE organizations o SET seats_used = o.seats_used + d.seats, seat_queue_length = o.seat_queue_length + d.queued
            FROM (SELECT organization_id, sum(seat)::int AS seats, sum(queued)::int AS queued
                    FROM (SELECT organization_id,
                                 CASE WHEN status = 'active' THEN 1 ELSE 0 END AS seat,
                                 CASE WHEN status = 'pending' AND pending_reason = 'awaiting_seat' THEN 1 ELSE 0 END AS queued
                            FROM new_rows
                          UNION ALL
                          SELECT organization_id,
                                 CASE WHEN status = 'active' THEN -1 ELSE 0 END,
                                 CASE WHEN status = 'pending' AND pending_reason = 'awaiting_seat' THEN -1 ELSE 0 END
                            FROM old_rows) x
                   GROUP BY organization_id) d
           WHERE o.id = d.organization_id AND (d.seats <> 0 OR d.queued <> 0);
        END IF;
        RETURN NULL;
      END $$`);
    // No writer may change a status between the count and the trigger's first run.
    await queryRunner.query('LOCK TABLE "users" IN SHARE ROW EXCLUSIVE MODE');
    await queryRunner.query(
      `CREATE TRIGGER users_seat_counts_insert AFTER INSERT ON "users" REFERENCING NEW TABLE AS new_rows
         FOR EACH STATEMENT EXECUTE FUNCTION users_seat_counts()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER users_seat_counts_update AFTER UPDATE ON "users"
         REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_seat_counts()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER users_seat_counts_delete AFTER DELETE ON "users" REFERENCING OLD TABLE AS old_rows
         FOR EACH STATEMENT EXECUTE FUNCTION users_seat_counts()`,
    );
    await queryRunner.query(
      `UPDATE "organizations" o SET seats_used = c.active, seat_queue_length = c.queued
         FROM (SELECT organization_id,
                      count(*) FILTER (WHERE status = 'active')::int AS active,
                      count(*) FILTER (WHERE status = 'pending' AND pending_reason = 'awaiting_seat')::int AS queued
                 FROM "users" GROUP BY organization_id) c
        WHERE o.id = c.organization_id`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER users_seat_counts_delete ON "users"');
    await queryRunner.query('DROP TRIGGER users_seat_counts_update ON "users"');
    await queryRunner.query('DROP TRIGGER users_seat_counts_insert ON "users"');
    await queryRunner.query('DROP FUNCTION users_seat_counts()');
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "seat_queue_length"');
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "seats_used"');
  }
}
