import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM users, second step: the `userName` and `externalId` indexes lead with the value, so one index answers an
 * organization's `userName eq` / `externalId eq` and the first Microsoft sign-in's look-up across organizations
 * (the JIT link to a SCIM-created user); and identities get an index on their lower-cased UPN, which SCIM adoption
 * (`userName eq` naming a user's Microsoft UPN) looks up.
 */
export class ScimUsersLookups1796610000001 implements MigrationInterface {
  name = 'ScimUsersLookups1796610000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."scim_users_organization_user_name_key"');
    await queryRunner.query('DROP INDEX "public"."scim_users_organization_external_id_idx"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "scim_users_user_name_organization_key" ON "scim_users"  ("user_name_lower", "organization_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "scim_users_external_id_organization_idx" ON "scim_users"  ("external_id", "organization_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "microsoft_identities_upn_lower_idx" ON "microsoft_identities" (lower("user_principal_name"))',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."microsoft_identities_upn_lower_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_users_external_id_organization_idx"');
    await queryRunner.query('DROP INDEX "public"."scim_users_user_name_organization_key"');
    await queryRunner.query(
      'CREATE INDEX "scim_users_organization_external_id_idx" ON "scim_users"  ("organization_id", "external_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "scim_users_organization_user_name_key" ON "scim_users"  ("organization_id", "user_name_lower") ',
    );
  }
}
