import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM users, third step: `name.givenName` and `name.familyName` are filterable (Microsoft's reference collection
 * filters on `name.familyName eq`), so each gets an index on its lower-cased value within the organization — a
 * filter never scans the organization's users.
 */
export class ScimUsersNameFilters1796610000002 implements MigrationInterface {
  name = 'ScimUsersNameFilters1796610000002';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "scim_users_family_name_organization_idx" ON "scim_users" (lower("attributes"->'name'->>'familyName'), "organization_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "scim_users_given_name_organization_idx" ON "scim_users" (lower("attributes"->'name'->>'givenName'), "organization_id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."scim_users_given_name_organization_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_users_family_name_organization_idx"');
  }
}
