import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EntraConnections1795307570616 implements MigrationInterface {
  name = 'EntraConnections1795307570616';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TYPE "public"."entra_connection_status" AS ENUM(\'connected\', \'reauthorization_required\')',
    );
    await queryRunner.query(
      'CREATE TABLE "entra_connections" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "tenant_name" text, "verified_domains" jsonb NOT NULL DEFAULT \'[]\', "status" "public"."entra_connection_status" NOT NULL DEFAULT \'connected\', "refresh_token_ciphertext" text, "access_token_ciphertext" text, "access_token_expires_at" TIMESTAMP WITH TIME ZONE, "granted_scopes" text array NOT NULL DEFAULT \'{}\', "connected_at" TIMESTAMP WITH TIME ZONE NOT NULL, "connected_by_user_id" uuid, "auto_provision_users" boolean NOT NULL DEFAULT false, "auto_deprovision_sync" boolean NOT NULL DEFAULT false, "group_role_mapping" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a0483bdb9432b85747c3c137ab0" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "entra_connections_organization_key" ON "entra_connections"  ("organization_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "entra_connections_tenant_key" ON "entra_connections"  ("tenant_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "entra_connections" ADD CONSTRAINT "FK_a7a5c8551c91d6170da6a608456" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "entra_connections" DROP CONSTRAINT "FK_a7a5c8551c91d6170da6a608456"',
    );
    await queryRunner.query('DROP INDEX "public"."entra_connections_tenant_key"');
    await queryRunner.query('DROP INDEX "public"."entra_connections_organization_key"');
    await queryRunner.query('DROP TABLE "entra_connections"');
    await queryRunner.query('DROP TYPE "public"."entra_connection_status"');
  }
}
