import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A sign-in that several organizations' invitations match waits here, for ten minutes at most, until the person
 * picks one: the validated claims, the offered invitations and the hash of the browser's choice cookie.
 */
export class InvitationChoices1796410000000 implements MigrationInterface {
  name = 'InvitationChoices1796410000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "invitation_choices" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "binding_hash" text NOT NULL, "claims" jsonb NOT NULL, "invitation_ids" uuid array NOT NULL, "return_to" text NOT NULL DEFAULT \'/\', "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0fddc9af1a2d3efd4bf8e7206a6" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "invitation_choices_binding_hash_key" ON "invitation_choices"  ("binding_hash") ',
    );
    await queryRunner.query(
      'CREATE INDEX "invitation_choices_expires_at_idx" ON "invitation_choices"  ("expires_at") ',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."invitation_choices_expires_at_idx"');
    await queryRunner.query('DROP INDEX "public"."invitation_choices_binding_hash_key"');
    await queryRunner.query('DROP TABLE "invitation_choices"');
  }
}
