import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A disconnect now drops the organization's sync state. State left by disconnects before that (no connection,
 * or a connection made after the state was last written) would make the next sync resume a delta link of the
 * old grant: drop it, so those organizations start with a full round. Data only; `down` has nothing to restore.
 */
export class SyncStateOfDisconnected1796530000000 implements MigrationInterface {
  name = 'SyncStateOfDisconnected1796530000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM "directory_sync_states" s WHERE NOT EXISTS (
         SELECT 1 FROM "entra_connections" c
          WHERE c."organization_id" = s."organization_id" AND c."tenant_id" = s."tenant_id"
            AND c."connected_at" <= s."updated_at")`,
    );
  }

  public async down(): Promise<void> {
    // The dropped delta links were stale; the next sync reads the directory in full.
  }
}
