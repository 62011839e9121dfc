import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An approved plan goes back to the sync queue (`sync_runs.approved_at` marks it), and the integration keeps
 * its own copy of the latest sync summary (`entra_connections.last_sync`), backfilled from the runs.
 */
export class SyncApprovalQueue1796120365850 implements MigrationInterface {
  name = 'SyncApprovalQueue1796120365850';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sync_runs" ADD "approved_at" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query('ALTER TABLE "entra_connections" ADD "last_sync" jsonb');
    // The same shape and ISO 8601 timestamps as the application writes (Date.prototype.toISOString).
    await queryRunner.query(`
      UPDATE "entra_connections" c SET "last_sync" = (
        SELECT jsonb_build_object(
          'runId', r.id,
          'trigger', r.trigger,
          'dryRun', r.dry_run,
          'status', r.status,
          'startedAt', to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'finishedAt', to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'deactivated', r.count_deactivated,
          'planned', r.count_planned,
          'errorCode', r.error_code,
          'runCreatedAt', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        FROM "sync_runs" r
        WHERE r.organization_id = c.organization_id
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT 1)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "entra_connections" DROP COLUMN "last_sync"');
    await queryRunner.query('ALTER TABLE "sync_runs" DROP COLUMN "approved_at"');
  }
}
