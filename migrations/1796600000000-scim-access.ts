import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM access: the organizations' SCIM tokens (hashed, revocable, at most two live), the SCIM switch, and the
 * provisioning log of every `/scim/v2` request (30 days).
 */
export class ScimAccess1796600000000 implements MigrationInterface {
  name = 'ScimAccess1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "scim_requests" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "token_id" uuid, "method" text NOT NULL, "path" text NOT NULL, "query" text, "status" integer NOT NULL, "scim_type" text, "detail" text, "resource_type" text, "resource_id" text, "duration_ms" integer NOT NULL, "request_body" jsonb, "notes" text array NOT NULL DEFAULT \'{}\', "client_address" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bcceaffa4d64323b735e5a4c5ff" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "scim_requests_created_idx" ON "scim_requests"  ("created_at") ');
    await queryRunner.query(
      'CREATE INDEX "scim_requests_organization_resource_idx" ON "scim_requests"  ("organization_id", "resource_id", "created_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_requests_organization_created_idx" ON "scim_requests"  ("organization_id", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "scim_settings" ("organization_id" uuid NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0ab1593333568e93eed941f92df" PRIMARY KEY ("organization_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "scim_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "name" text NOT NULL, "prefix" text NOT NULL, "token_hash" text NOT NULL, "created_by_user_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "last_used_from" text, CONSTRAINT "PK_5e368798dfa88b0d9fb185e8901" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "scim_tokens_token_hash_key" ON "scim_tokens"  ("token_hash") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_tokens_organization_created_idx" ON "scim_tokens"  ("organization_id", "created_at") ',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_requests" ADD CONSTRAINT "FK_66a6efa501de020b7ce08d1338e" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_settings" ADD CONSTRAINT "FK_0ab1593333568e93eed941f92df" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "scim_tokens" ADD CONSTRAINT "FK_3f8c2c11cc6038314cdcf26c785" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "scim_tokens" DROP CONSTRAINT "FK_3f8c2c11cc6038314cdcf26c785"');
    await queryRunner.query('ALTER TABLE "scim_settings" DROP CONSTRAINT "FK_0ab1593333568e93eed941f92df"');
    await queryRunner.query('ALTER TABLE "scim_requests" DROP CONSTRAINT "FK_66a6efa501de020b7ce08d1338e"');
    await queryRunner.query('DROP INDEX "public"."scim_tokens_organization_created_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_tokens_token_hash_key"');
    await queryRunner.query('DROP TABLE "scim_tokens"');
    await queryRunner.query('DROP TABLE "scim_settings"');
    await queryRunner.query('DROP INDEX "public"."scim_requests_organization_created_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_requests_organization_resource_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_requests_created_idx"');
    await queryRunner.query('DROP TABLE "scim_requests"');
  }
}
