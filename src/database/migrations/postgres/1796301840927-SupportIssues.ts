import { MigrationInterface, QueryRunner } from 'typeorm';

export class SupportIssues1796301840927 implements MigrationInterface {
  name = 'SupportIssues1796301840927';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."issues_status_enum" AS ENUM('open', 'waiting_admin', 'waiting_user')`);
    await queryRunner.query(`CREATE TABLE "issues" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "workspace_id" uuid, "user_email" character varying(320) NOT NULL, "user_name" character varying(320) NOT NULL, "user_plan" character varying(100), "user_role" character varying(20), "workspace_plan" character varying(100), "workspace_role" character varying(20), "description" text NOT NULL, "status" "public"."issues_status_enum" NOT NULL DEFAULT 'open', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_9d8ecbbeff46229c700f0449257" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "issues_workspace_id_idx" ON "issues"  ("workspace_id") `);
    await queryRunner.query(`CREATE INDEX "issues_status_updated_idx" ON "issues"  ("status", "updated_at") `);
    await queryRunner.query(`CREATE INDEX "issues_user_updated_idx" ON "issues"  ("user_id", "updated_at") `);
    await queryRunner.query(`CREATE TYPE "public"."issue_messages_sender_type_enum" AS ENUM('user', 'admin')`);
    await queryRunner.query(`CREATE TABLE "issue_messages" ("id" uuid NOT NULL, "issue_id" uuid NOT NULL, "position" integer NOT NULL, "sender_id" uuid, "sender_type" "public"."issue_messages_sender_type_enum" NOT NULL, "body" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "read_by_user_at" TIMESTAMP WITH TIME ZONE, "read_by_admin_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_883edf1f683c6bf4380b3cfcbe9" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "issue_messages_issue_position_key" ON "issue_messages"  ("issue_id", "position") `);
    await queryRunner.query(`ALTER TABLE "issues" ADD CONSTRAINT "FK_b9ea72827c8809e665cdddff9ae" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "issues" ADD CONSTRAINT "FK_0a0e6246063c938a9adccc5f293" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "issue_messages" ADD CONSTRAINT "FK_bcc55dcd96f6de3e9ae16b7a7a9" FOREIGN KEY ("issue_id") REFERENCES "issues"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "issue_messages" DROP CONSTRAINT "FK_bcc55dcd96f6de3e9ae16b7a7a9"`);
    await queryRunner.query(`ALTER TABLE "issues" DROP CONSTRAINT "FK_0a0e6246063c938a9adccc5f293"`);
    await queryRunner.query(`ALTER TABLE "issues" DROP CONSTRAINT "FK_b9ea72827c8809e665cdddff9ae"`);
    await queryRunner.query(`DROP INDEX "public"."issue_messages_issue_position_key"`);
    await queryRunner.query(`DROP TABLE "issue_messages"`);
    await queryRunner.query(`DROP TYPE "public"."issue_messages_sender_type_enum"`);
    await queryRunner.query(`DROP INDEX "public"."issues_user_updated_idx"`);
    await queryRunner.query(`DROP INDEX "public"."issues_status_updated_idx"`);
    await queryRunner.query(`DROP INDEX "public"."issues_workspace_id_idx"`);
    await queryRunner.query(`DROP TABLE "issues"`);
    await queryRunner.query(`DROP TYPE "public"."issues_status_enum"`);
  }
}
