import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DirectorySync1795309250169 implements MigrationInterface {
  name = 'DirectorySync1795309250169';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "directory_sync_states" ("organization_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "delta_link" text, "last_run_started_at" TIMESTAMP WITH TIME ZONE, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8e754064201da639a8b21dc08c8" PRIMARY KEY ("organization_id", "tenant_id"))',
    );
    await queryRunner.query(
      "CREATE TYPE \"public\".\"sync_outcome\" AS ENUM('deactivated', 'planned', 'already_deactivated', 'skipped', 'error')",
    );
    await queryRunner.query(
      'CREATE TYPE "public"."deactivation_reason" AS ENUM(\'entra_account_disabled\', \'entra_account_deleted\')',
    );
    await queryRunner.query(
      'CREATE TABLE "sync_run_outcomes" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "run_id" uuid NOT NULL, "user_id" uuid NOT NULL, "object_id" uuid NOT NULL, "outcome" "public"."sync_outcome" NOT NULL, "reason" "public"."deactivation_reason" NOT NULL, "detail" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8bfb933396e14e94651d204b841" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "sync_run_outcomes_run_idx" ON "sync_run_outcomes"  ("run_id", "id") ',
    );
    await queryRunner.query('CREATE TYPE "public"."sync_trigger" AS ENUM(\'schedule\', \'manual\')');
    await queryRunner.query(
      "CREATE TYPE \"public\".\"sync_status\" AS ENUM('queued', 'running', 'succeeded', 'failed', 'awaiting_approval', 'rejected')",
    );
    await queryRunner.query('CREATE TYPE "public"."sync_mode" AS ENUM(\'full\', \'incremental\')');
    await queryRunner.query(
      'CREATE TABLE "sync_runs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "trigger" "public"."sync_trigger" NOT NULL, "schedule_slot" text, "dry_run" boolean NOT NULL DEFAULT false, "status" "public"."sync_status" NOT NULL DEFAULT \'queued\', "mode" "public"."sync_mode", "requested_by_user_id" uuid, "worker_id" text, "heartbeat_at" TIMESTAMP WITH TIME ZONE, "progress_checked" integer NOT NULL DEFAULT \'0\', "progress_total" integer, "count_checked" integer NOT NULL DEFAULT \'0\', "count_deactivated" integer NOT NULL DEFAULT \'0\', "count_already_deactivated" integer NOT NULL DEFAULT \'0\', "count_not_linked" integer NOT NULL DEFAULT \'0\', "count_errors" integer NOT NULL DEFAULT \'0\', "count_planned" integer NOT NULL DEFAULT \'0\', "threshold_limit" integer, "last_owner_deactivated" boolean NOT NULL DEFAULT false, "delta_link" text, "error_code" text, "error_message" text, "decided_by_user_id" uuid, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_adf13fff41a683b3b991fb90b11" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "sync_runs_status_idx" ON "sync_runs"  ("status") ');
    await queryRunner.query(
      'CREATE INDEX "sync_runs_organization_created_idx" ON "sync_runs"  ("organization_id", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "sync_runs_one_per_schedule_slot" ON "sync_runs"  ("organization_id", "schedule_slot") WHERE "schedule_slot" IS NOT NULL',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "sync_runs_one_active_per_organization" ON "sync_runs"  ("organization_id") WHERE "status" IN (\'queued\', \'running\')',
    );
    await queryRunner.query(
      'ALTER TABLE "entra_connections" ADD "deprovision_threshold_count" integer NOT NULL DEFAULT \'25\'',
    );
    await queryRunner.query(
      'ALTER TABLE "entra_connections" ADD "deprovision_threshold_percent" integer NOT NULL DEFAULT \'10\'',
    );
    await queryRunner.query('ALTER TABLE "microsoft_identities" ADD "directory_seen_run_id" uuid');
    await queryRunner.query(
      'ALTER TABLE "sync_runs" ADD CONSTRAINT "FK_62877f26fb52f671a15433f4cd5" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sync_runs" DROP CONSTRAINT "FK_62877f26fb52f671a15433f4cd5"');
    await queryRunner.query('ALTER TABLE "microsoft_identities" DROP COLUMN "directory_seen_run_id"');
    await queryRunner.query('ALTER TABLE "entra_connections" DROP COLUMN "deprovision_threshold_percent"');
    await queryRunner.query('ALTER TABLE "entra_connections" DROP COLUMN "deprovision_threshold_count"');
    await queryRunner.query('DROP INDEX "public"."sync_runs_one_active_per_organization"');
    await queryRunner.query('DROP INDEX "public"."sync_runs_one_per_schedule_slot"');
    await queryRunner.query('DROP INDEX "public"."sync_runs_organization_created_idx"');
    await queryRunner.query('DROP INDEX "public"."sync_runs_status_idx"');
    await queryRunner.query('DROP TABLE "sync_runs"');
    await queryRunner.query('DROP TYPE "public"."sync_mode"');
    await queryRunner.query('DROP TYPE "public"."sync_status"');
    await queryRunner.query('DROP TYPE "public"."sync_trigger"');
    await queryRunner.query('DROP INDEX "public"."sync_run_outcomes_run_idx"');
    await queryRunner.query('DROP TABLE "sync_run_outcomes"');
    await queryRunner.query('DROP TYPE "public"."deactivation_reason"');
    await queryRunner.query('DROP TYPE "public"."sync_outcome"');
    await queryRunner.query('DROP TABLE "directory_sync_states"');
  }
}
