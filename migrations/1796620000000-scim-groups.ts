import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The SCIM side of Entra groups: `scim_groups` (display name, externalId = the Entra object id, the last raw
 * body, an ETag version) and their members, product users of the same organization.
 */
export class ScimGroups1796620000000 implements MigrationInterface {
  name = 'ScimGroups1796620000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "scim_groups" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "display_name" text NOT NULL, "display_name_lower" text NOT NULL, "external_id" text, "raw" jsonb NOT NULL, "version" integer NOT NULL DEFAULT \'1\', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8bacda70f9d3c4028b3abe53874" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_groups_updated_idx" ON "scim_groups"  ("organization_id", "updated_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_groups_created_idx" ON "scim_groups"  ("organization_id", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "scim_groups_external_id_key" ON "scim_groups"  ("organization_id", "external_id") WHERE "external_id" IS NOT NULL',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_groups_display_name_idx" ON "scim_groups"  ("organization_id", "display_name_lower") ',
    );
    await queryRunner.query(
      'CREATE TABLE "scim_group_members" ("group_id" uuid NOT NULL, "user_id" uuid NOT NULL, "organization_id" uuid NOT NULL, "display" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8b10e33ba5676208fb52a83bb89" PRIMARY KEY ("group_id", "user_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_group_members_user_idx" ON "scim_group_members"  ("organization_id", "user_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_groups" ADD CONSTRAINT "FK_99aa77fade59edd24556015aea1" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_group_members" ADD CONSTRAINT "FK_e789fd51be503273b27723fd9a9" FOREIGN KEY ("group_id") REFERENCES "scim_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_group_members" ADD CONSTRAINT "FK_462aa1775cd60740c884ac91cc0" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "scim_group_members" DROP CONSTRAINT "FK_462aa1775cd60740c884ac91cc0"',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_group_members" DROP CONSTRAINT "FK_e789fd51be503273b27723fd9a9"',
    );
    await queryRunner.query('ALTER TABLE "scim_groups" DROP CONSTRAINT "FK_99aa77fade59edd24556015aea1"');
    await queryRunner.query('DROP INDEX "public"."scim_group_members_user_idx"');
    await queryRunner.query('DROP TABLE "scim_group_members"');
    await queryRunner.query('DROP INDEX "public"."scim_groups_display_name_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_groups_external_id_key"');
    await queryRunner.query('DROP INDEX "public"."scim_groups_created_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_groups_updated_idx"');
    await queryRunner.query('DROP TABLE "scim_groups"');
  }
}
