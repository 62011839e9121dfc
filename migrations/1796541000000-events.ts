import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The events outbox behind the feed and the webhooks: written in the transaction of each change, ordered by
 * `seq`, kept 30 days. `tx_id` is the writer's transaction id, so readers can wait for open transactions.
 */
export class Events1796541000000 implements MigrationInterface {
  name = 'Events1796541000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "tx_id" bigint NOT NULL, "organization_id" uuid NOT NULL, "type" text NOT NULL, "data" jsonb NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_40731c7151fe4be3116e45ddf73" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "events_seq_key" ON "events"  ("seq") ');
    await queryRunner.query('CREATE INDEX "events_created_at_idx" ON "events"  ("created_at") ');
    await queryRunner.query(
      'CREATE INDEX "events_organization_seq_idx" ON "events"  ("organization_id", "seq") ',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."events_organization_seq_idx"');
    await queryRunner.query('DROP INDEX "public"."events_created_at_idx"');
    await queryRunner.query('DROP INDEX "public"."events_seq_key"');
    await queryRunner.query('DROP TABLE "events"');
  }
}
