import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One redirect-flow service for every purpose: a flow remembers what its code must be redeemed with, and the
 * purpose list makes room for the tenant-assignment admin verification. Flows live ten minutes; the ones
 * pending during the deploy are dropped (their users start again).
 */
export class RedirectFlows1796200000000 implements MigrationInterface {
  name = 'RedirectFlows1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DELETE FROM "auth_flows"');
    await queryRunner.query('ALTER TYPE "public"."auth_flow_purpose" ADD VALUE \'assignment_verification\'');
    await queryRunner.query('ALTER TABLE "auth_flows" ADD "redirect_uri" text NOT NULL');
    await queryRunner.query('ALTER TABLE "auth_flows" ADD "scopes" text array NOT NULL');
    await queryRunner.query(
      'ALTER TABLE "auth_flows" ADD "authority_tenant" text NOT NULL DEFAULT \'organizations\'',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DELETE FROM "auth_flows"');
    await queryRunner.query('ALTER TABLE "auth_flows" DROP COLUMN "authority_tenant"');
    await queryRunner.query('ALTER TABLE "auth_flows" DROP COLUMN "scopes"');
    await queryRunner.query('ALTER TABLE "auth_flows" DROP COLUMN "redirect_uri"');
    await queryRunner.query('ALTER TYPE "public"."auth_flow_purpose" RENAME TO "auth_flow_purpose_old"');
    await queryRunner.query('CREATE TYPE "public"."auth_flow_purpose" AS ENUM(\'sign_in\', \'connect\')');
    await queryRunner.query(
      'ALTER TABLE "auth_flows" ALTER COLUMN "purpose" TYPE "public"."auth_flow_purpose" USING "purpose"::"text"::"public"."auth_flow_purpose"',
    );
    await queryRunner.query('DROP TYPE "public"."auth_flow_purpose_old"');
  }
}
