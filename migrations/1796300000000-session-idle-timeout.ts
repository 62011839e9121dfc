import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionIdleTimeout1796300000000 implements MigrationInterface {
  name = 'SessionIdleTimeout1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "sessions" DROP COLUMN "last_seen_at"');
  }
}
