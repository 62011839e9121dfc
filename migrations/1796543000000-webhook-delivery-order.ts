import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A creation order for webhook deliveries: a delivery is attempted only when every earlier pending delivery of
 * its endpoint is settled or waiting out a back-off (the partial index serves that check). Existing rows are
 * numbered as they are stored.
 */
export class WebhookDeliveryOrder1796543000000 implements MigrationInterface {
  name = 'WebhookDeliveryOrder1796543000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "webhook_deliveries" ADD "seq" bigint GENERATED ALWAYS AS IDENTITY NOT NULL',
    );
    await queryRunner.query(
      'CREATE INDEX "webhook_deliveries_pending_endpoint_seq_idx" ON "webhook_deliveries"  ("endpoint_id", "seq") WHERE status = \'pending\'',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."webhook_deliveries_pending_endpoint_seq_idx"');
    await queryRunner.query('ALTER TABLE "webhook_deliveries" DROP COLUMN "seq"');
  }
}
