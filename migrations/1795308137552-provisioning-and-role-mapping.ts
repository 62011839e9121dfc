import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ProvisioningAndRoleMapping1795308137552 implements MigrationInterface {
  name = 'ProvisioningAndRoleMapping1795308137552';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "CREATE TYPE \"public\".\"mappable_role\" AS ENUM('admin', 'manager', 'employee')",
    );
    await queryRunner.query(
      'CREATE TABLE "group_role_mappings" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "group_id" uuid NOT NULL, "group_display_name" text NOT NULL, "role" "public"."mappable_role" NOT NULL, "created_by_user_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_114253a434f278b73404fcbf396" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "group_role_mappings_group_key" ON "group_role_mappings"  ("organization_id", "group_id") ',
    );
    await queryRunner.query(
      "CREATE TYPE \"public\".\"invitation_status\" AS ENUM('pending', 'accepted', 'revoked', 'expired')",
    );
    await queryRunner.query(
      'CREATE TABLE "invitations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "email" text NOT NULL, "role" "public"."user_role" NOT NULL, "status" "public"."invitation_status" NOT NULL DEFAULT \'pending\', "invited_by_user_id" uuid, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "accepted_by_user_id" uuid, "ended_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5dec98cfdfd562e4ad3648bbb07" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "invitations_email_idx" ON "invitations"  ("email") ');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "invitations_pending_email_key" ON "invitations"  ("organization_id", "email") WHERE "status" = \'pending\'',
    );
    await queryRunner.query(
      "CREATE TYPE \"public\".\"user_role_source\" AS ENUM('default', 'group_mapping', 'invitation', 'manual')",
    );
    await queryRunner.query(
      'ALTER TABLE "users" ADD "role_source" "public"."user_role_source" NOT NULL DEFAULT \'default\'',
    );
    await queryRunner.query('ALTER TABLE "users" ADD "role_source_group_id" uuid');
    await queryRunner.query('ALTER TABLE "users" ADD "role_source_group_name" text');
    await queryRunner.query(
      'ALTER TABLE "group_role_mappings" ADD CONSTRAINT "FK_71c8f38cede79f3b4a957098e8f" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "invitations" ADD CONSTRAINT "FK_42d1dbb4d85dc3643fdc6560af0" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "invitations" DROP CONSTRAINT "FK_42d1dbb4d85dc3643fdc6560af0"');
    await queryRunner.query(
      'ALTER TABLE "group_role_mappings" DROP CONSTRAINT "FK_71c8f38cede79f3b4a957098e8f"',
    );
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "role_source_group_name"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "role_source_group_id"');
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "role_source"');
    await queryRunner.query('DROP TYPE "public"."user_role_source"');
    await queryRunner.query('DROP INDEX "public"."invitations_pending_email_key"');
    await queryRunner.query('DROP INDEX "public"."invitations_email_idx"');
    await queryRunner.query('DROP TABLE "invitations"');
    await queryRunner.query('DROP TYPE "public"."invitation_status"');
    await queryRunner.query('DROP INDEX "public"."group_role_mappings_group_key"');
    await queryRunner.query('DROP TABLE "group_role_mappings"');
    await queryRunner.query('DROP TYPE "public"."mappable_role"');
  }
}
