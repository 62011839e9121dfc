import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenant user assignment and the one activation policy: an organization's domain allowlist within its
 * Microsoft tenant (`tenant_assignments`, its domains claimed in `domain_claims`), the redirect flow's
 * `context` (what an administrator asked to verify), and why a pending user is pending, with the moment it
 * became so (the seat queue's order). Users already pending wait for an administrator, as before.
 */
export class TenantAssignment1796500000000 implements MigrationInterface {
  name = 'TenantAssignment1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TYPE "public"."tenant_assignment_status" AS ENUM(\'pending_verification\', \'enabled\')',
    );
    await queryRunner.query(
      'CREATE TABLE "tenant_assignments" ("organization_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "status" "public"."tenant_assignment_status" NOT NULL DEFAULT \'pending_verification\', "domains" text array NOT NULL DEFAULT \'{}\', "auto_activate" boolean NOT NULL DEFAULT false, "verified_by_name" text, "verified_by_upn" text, "verified_by_role" text, "verified_by_user_id" uuid, "verified_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_30e83af9155f1c596613474889c" PRIMARY KEY ("organization_id"))',
    );
    await queryRunner.query('ALTER TABLE "auth_flows" ADD "context" jsonb');
    await queryRunner.query(
      'CREATE TYPE "public"."user_pending_reason" AS ENUM(\'awaiting_approval\', \'awaiting_seat\')',
    );
    await queryRunner.query('ALTER TABLE "users" ADD "pending_reason" "public"."user_pending_reason"');
    await queryRunner.query('ALTER TABLE "users" ADD "pending_since" TIMESTAMP(3) WITH TIME ZONE');
    await queryRunner.query(
      `UPDATE "users" SET "pending_reason" = 'awaiting_approval', "pending_since" = "updated_at" WHERE "status" = 'pending'`,
    );
    await queryRunner.query(
      'CREATE INDEX "users_seat_queue_idx" ON "users"  ("organization_id", "pending_reason", "pending_since") ',
    );
    await queryRunner.query(
      'ALTER TABLE "tenant_assignments" ADD CONSTRAINT "FK_30e83af9155f1c596613474889c" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "tenant_assignments" DROP CONSTRAINT "FK_30e83af9155f1c596613474889c"',
    );
    await queryRunner.query('DROP INDEX "public"."users_seat_queue_idx"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "pending_since"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "pending_reason"');
    await queryRunner.query('DROP TYPE "public"."user_pending_reason"');
    await queryRunner.query('ALTER TABLE "auth_flows" DROP COLUMN "context"');
    await queryRunner.query('DROP TABLE "tenant_assignments"');
    await queryRunner.query('DROP TYPE "public"."tenant_assignment_status"');
  }
}
