import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A full directory round's seen set moves off the identity rows into a run-scoped UNLOGGED side table:
 * stamping `directory_seen_run_id` on every linked identity rewrote each row on every full round (about
 * 95,000 dead tuples per 100,000-user round, all WAL-logged). The side table is written without WAL and
 * emptied per run; the primary key (run_id, object_id) serves the inserts, the lookups and the drop.
 */
export class DirectorySeenSet1796510000000 implements MigrationInterface {
  name = 'DirectorySeenSet1796510000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE UNLOGGED TABLE "directory_sync_seen" ("run_id" uuid NOT NULL, "object_id" uuid NOT NULL, CONSTRAINT "PK_directory_sync_seen" PRIMARY KEY ("run_id", "object_id"))',
    );
    await queryRunner.query('ALTER TABLE "microsoft_identities" DROP COLUMN "directory_seen_run_id"');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "microsoft_identities" ADD "directory_seen_run_id" uuid');
    await queryRunner.query('DROP TABLE "directory_sync_seen"');
  }
}
