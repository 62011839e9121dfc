import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM users (issue 12): the SCIM side of each product user a directory provisions, and the end of the unique
 * (organization, email) index. An address is contact data, not a key: several SCIM users may carry one work
 * email, and a rehire meets the deactivated record of the leaver who still holds it. Sign-in and invitations
 * keep one live (not deactivated) holder per address in their own checks, under the organization lock (README,
 * "Who is who"); the keys are the Microsoft account (`tid`, `oid`) and the SCIM `userName`.
 *
 * `down` restores the unique index, which fails while two users share an address: merge or rename them first.
 */
export class ScimUsers1796610000000 implements MigrationInterface {
  name = 'ScimUsers1796610000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."users_organization_email_key"');
    await queryRunner.query(
      'CREATE INDEX "users_organization_email_idx" ON "users"  ("organization_id", "email") ',
    );
    await queryRunner.query(
      'CREATE TABLE "scim_users" ("user_id" uuid NOT NULL, "organization_id" uuid NOT NULL, "user_name" text NOT NULL, "user_name_lower" text NOT NULL, "external_id" text, "display_name_lower" text, "active" boolean NOT NULL, "emails_lower" text array NOT NULL DEFAULT \'{}\', "attributes" jsonb NOT NULL, "raw" jsonb NOT NULL, "version" integer NOT NULL DEFAULT \'1\', "deleted_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_scim_users" PRIMARY KEY ("user_id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "scim_users_organization_user_name_key" ON "scim_users"  ("organization_id", "user_name_lower") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_users_organization_external_id_idx" ON "scim_users"  ("organization_id", "external_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_users_organization_display_name_idx" ON "scim_users"  ("organization_id", "display_name_lower") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_users_organization_updated_at_idx" ON "scim_users"  ("organization_id", "updated_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_users_organization_created_at_idx" ON "scim_users"  ("organization_id", "created_at", "user_id") ',
    );
    // `emails.value eq "x"` compiles to `emails_lower @> ARRAY['x']`, which this index answers.
    await queryRunner.query(
      'CREATE INDEX "scim_users_emails_idx" ON "scim_users" USING gin ("emails_lower")',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_users" ADD CONSTRAINT "FK_c3073abd55c09b51fb5873ef040" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_users" ADD CONSTRAINT "FK_876458955bd345b8dff5ff21ef5" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "scim_users"');
    await queryRunner.query('DROP INDEX "public"."users_organization_email_idx"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "users_organization_email_key" ON "users"  ("organization_id", "email") ',
    );
  }
}
