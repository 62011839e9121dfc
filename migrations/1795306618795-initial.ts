import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795306618795 implements MigrationInterface {
  name = 'Initial1795306618795';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TYPE "public"."audit_actor_type" AS ENUM(\'user\', \'system\')');
    await queryRunner.query(
      'CREATE TABLE "audit_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid, "actor_type" "public"."audit_actor_type" NOT NULL, "actor_id" uuid, "action" text NOT NULL, "target_type" text, "target_id" text, "before" jsonb, "after" jsonb, "request_id" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "audit_events_organization_created_idx" ON "audit_events"  ("organization_id", "created_at", "id") ',
    );
    await queryRunner.query('CREATE TYPE "public"."auth_flow_purpose" AS ENUM(\'sign_in\', \'connect\')');
    await queryRunner.query(
      'CREATE TABLE "auth_flows" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "state_hash" text NOT NULL, "browser_binding_hash" text, "purpose" "public"."auth_flow_purpose" NOT NULL, "nonce" text NOT NULL, "code_verifier" text NOT NULL, "return_to" text NOT NULL DEFAULT \'/\', "user_id" uuid, "organization_id" uuid, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5b956a3a6a705882a27bbb83271" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "auth_flows_state_hash_key" ON "auth_flows"  ("state_hash") ',
    );
    await queryRunner.query('CREATE INDEX "auth_flows_expires_at_idx" ON "auth_flows"  ("expires_at") ');
    await queryRunner.query(
      "CREATE TYPE \"public\".\"organization_plan\" AS ENUM('free', 'team', 'enterprise')",
    );
    await queryRunner.query(
      'CREATE TABLE "organizations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "plan" "public"."organization_plan" NOT NULL DEFAULT \'free\', "seat_limit" integer NOT NULL DEFAULT \'5\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6b031fcd0863e3f6b44230163f9" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      "CREATE TYPE \"public\".\"user_role\" AS ENUM('owner', 'admin', 'manager', 'employee')",
    );
    await queryRunner.query(
      "CREATE TYPE \"public\".\"user_status\" AS ENUM('active', 'pending', 'deactivated')",
    );
    await queryRunner.query(
      'CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "email" text NOT NULL, "display_name" text NOT NULL, "role" "public"."user_role" NOT NULL DEFAULT \'employee\', "status" "public"."user_status" NOT NULL DEFAULT \'active\', "deactivation_reason" text, "deactivated_at" TIMESTAMP WITH TIME ZONE, "last_sign_in_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "users_organization_email_key" ON "users"  ("organization_id", "email") ',
    );
    await queryRunner.query(
      'CREATE TABLE "sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "token_hash" text NOT NULL, "user_id" uuid NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoked_reason" text, "user_agent" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions"  ("token_hash") ');
    await queryRunner.query('CREATE INDEX "sessions_user_id_idx" ON "sessions"  ("user_id") ');
    await queryRunner.query(
      'CREATE TABLE "microsoft_identities" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "tenant_id" uuid NOT NULL, "object_id" uuid NOT NULL, "user_principal_name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_sign_in_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_6694dc4d65ce0c475d75017a2ac" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "microsoft_identities_user_id_idx" ON "microsoft_identities"  ("user_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "microsoft_identities_tenant_object_key" ON "microsoft_identities"  ("tenant_id", "object_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "users" ADD CONSTRAINT "FK_21a659804ed7bf61eb91688dea7" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "sessions" ADD CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "microsoft_identities" ADD CONSTRAINT "FK_9f2e40c101b0934ba181acad1a8" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    // The audit trail is append-only: refuse UPDATE and DELETE at the database, whoever connects.
    await queryRunner.query(
      "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    );
    await queryRunner.query(
      'CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON "audit_events" FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER audit_events_append_only ON "audit_events"');
    await queryRunner.query('DROP FUNCTION audit_events_append_only()');
    await queryRunner.query(
      'ALTER TABLE "microsoft_identities" DROP CONSTRAINT "FK_9f2e40c101b0934ba181acad1a8"',
    );
    await queryRunner.query('ALTER TABLE "sessions" DROP CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19"');
    await queryRunner.query('ALTER TABLE "users" DROP CONSTRAINT "FK_21a659804ed7bf61eb91688dea7"');
    await queryRunner.query('DROP INDEX "public"."microsoft_identities_tenant_object_key"');
    await queryRunner.query('DROP INDEX "public"."microsoft_identities_user_id_idx"');
    await queryRunner.query('DROP TABLE "microsoft_identities"');
    await queryRunner.query('DROP INDEX "public"."sessions_user_id_idx"');
    await queryRunner.query('DROP INDEX "public"."sessions_token_hash_key"');
    await queryRunner.query('DROP TABLE "sessions"');
    await queryRunner.query('DROP INDEX "public"."users_organization_email_key"');
    await queryRunner.query('DROP TABLE "users"');
    await queryRunner.query('DROP TYPE "public"."user_status"');
    await queryRunner.query('DROP TYPE "public"."user_role"');
    await queryRunner.query('DROP TABLE "organizations"');
    await queryRunner.query('DROP TYPE "public"."organization_plan"');
    await queryRunner.query('DROP INDEX "public"."auth_flows_expires_at_idx"');
    await queryRunner.query('DROP INDEX "public"."auth_flows_state_hash_key"');
    await queryRunner.query('DROP TABLE "auth_flows"');
    await queryRunner.query('DROP TYPE "public"."auth_flow_purpose"');
    await queryRunner.query('DROP INDEX "public"."audit_events_organization_created_idx"');
    await queryRunner.query('DROP TABLE "audit_events"');
    await queryRunner.query('DROP TYPE "public"."audit_actor_type"');
  }
}
