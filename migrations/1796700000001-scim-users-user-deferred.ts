import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A SCIM user's row may be written before its product user within one transaction: the check that its user
 * exists runs at commit. A SCIM POST then writes its own row (and meets a `userName` clash) before it takes
 * the organization lock for the product user, and holds that lock for less.
 */
export class ScimUsersUserDeferred1796700000001 implements MigrationInterface {
  name = 'ScimUsersUserDeferred1796700000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "scim_users" ALTER CONSTRAINT "FK_c3073abd55c09b51fb5873ef040" DEFERRABLE INITIALLY DEFERRED',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "scim_users" ALTER CONSTRAINT "FK_c3073abd55c09b51fb5873ef040" NOT DEFERRABLE',
    );
  }
}
