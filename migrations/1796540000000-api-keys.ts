import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organizations' API keys (hashed, scoped, revocable), and `api_key` as an actor of the audit trail. Going down
 * turns the audit events of keys into system events: the trail keeps them, the enum cannot.
 */
export class ApiKeys1796540000000 implements MigrationInterface {
  name = 'ApiKeys1796540000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "api_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "name" text NOT NULL, "prefix" text NOT NULL, "token_hash" text NOT NULL, "scopes" text array NOT NULL, "created_by_user_id" uuid, "expires_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "last_used_from" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "api_keys_token_hash_key" ON "api_keys"  ("token_hash") ');
    await queryRunner.query(
      'CREATE INDEX "api_keys_organization_created_idx" ON "api_keys"  ("organization_id", "created_at") ',
    );
    await queryRunner.query('ALTER TYPE "public"."audit_actor_type" ADD VALUE \'api_key\'');
    await queryRunner.query(
      'ALTER TABLE "api_keys" ADD CONSTRAINT "FK_a283bdef18876e525aefaec042f" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "api_keys" DROP CONSTRAINT "FK_a283bdef18876e525aefaec042f"');
    await queryRunner.query('CREATE TYPE "public"."audit_actor_type_old" AS ENUM(\'user\', \'system\')');
    await queryRunner.query(
      'ALTER TABLE "audit_events" ALTER COLUMN "actor_type" TYPE "public"."audit_actor_type_old" USING (CASE WHEN "actor_type" = \'api_key\' THEN \'system\' ELSE "actor_type"::"text" END)::"public"."audit_actor_type_old"',
    );
    await queryRunner.query('DROP TYPE "public"."audit_actor_type"');
    await queryRunner.query('ALTER TYPE "public"."audit_actor_type_old" RENAME TO "audit_actor_type"');
    await queryRunner.query('DROP INDEX "public"."api_keys_organization_created_idx"');
    await queryRunner.query('DROP INDEX "public"."api_keys_token_hash_key"');
    await queryRunner.query('DROP TABLE "api_keys"');
  }
}
