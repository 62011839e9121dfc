import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `display` of a SCIM group member as the directory sent it (returned as sent, as Microsoft's reference
 * collection checks). A second migration because 1796620000000 was already committed.
 */
export class ScimGroupMemberDisplay1796620000001 implements MigrationInterface {
  name = 'ScimGroupMemberDisplay1796620000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "scim_group_members" ADD "display" text');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "scim_group_members" DROP COLUMN "display"');
  }
}
