import { MigrationInterface, QueryRunner } from 'typeorm';

export class SupportIssues1796301839134 implements MigrationInterface {
  name = 'SupportIssues1796301839134';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "issues" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "user_email" varchar(320) NOT NULL, "user_name" varchar(320) NOT NULL, "user_plan" varchar(100), "user_role" varchar(20), "workspace_plan" varchar(100), "workspace_role" varchar(20), "description" text NOT NULL, "status" varchar CHECK( "status" IN ('open','waiting_admin','waiting_user') ) NOT NULL DEFAULT ('open'), "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "issues_workspace_id_idx" ON "issues" ("workspace_id") `);
    await queryRunner.query(`CREATE INDEX "issues_status_updated_idx" ON "issues" ("status", "updated_at") `);
    await queryRunner.query(`CREATE INDEX "issues_user_updated_idx" ON "issues" ("user_id", "updated_at") `);
    await queryRunner.query(`CREATE TABLE "issue_messages" ("id" varchar PRIMARY KEY NOT NULL, "issue_id" varchar NOT NULL, "position" integer NOT NULL, "sender_id" varchar, "sender_type" varchar CHECK( "sender_type" IN ('user','admin') ) NOT NULL, "body" text NOT NULL, "created_at" datetime NOT NULL, "read_by_user_at" datetime, "read_by_admin_at" datetime)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "issue_messages_issue_position_key" ON "issue_messages" ("issue_id", "position") `);
    await queryRunner.query(`DROP INDEX "issues_workspace_id_idx"`);
    await queryRunner.query(`DROP INDEX "issues_status_updated_idx"`);
    await queryRunner.query(`DROP INDEX "issues_user_updated_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_issues" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "user_email" varchar(320) NOT NULL, "user_name" varchar(320) NOT NULL, "user_plan" varchar(100), "user_role" varchar(20), "workspace_plan" varchar(100), "workspace_role" varchar(20), "description" text NOT NULL, "status" varchar CHECK( "status" IN ('open','waiting_admin','waiting_user') ) NOT NULL DEFAULT ('open'), "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_b9ea72827c8809e665cdddff9ae" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "FK_0a0e6246063c938a9adccc5f293" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE SET NULL ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_issues"("id", "user_id", "workspace_id", "user_email", "user_name", "user_plan", "user_role", "workspace_plan", "workspace_role", "description", "status", "created_at", "updated_at") SELECT "id", "user_id", "workspace_id", "user_email", "user_name", "user_plan", "user_role", "workspace_plan", "workspace_role", "description", "status", "created_at", "updated_at" FROM "issues"`);
    await queryRunner.query(`DROP TABLE "issues"`);
    await queryRunner.query(`ALTER TABLE "temporary_issues" RENAME TO "issues"`);
    await queryRunner.query(`CREATE INDEX "issues_workspace_id_idx" ON "issues" ("workspace_id") `);
    await queryRunner.query(`CREATE INDEX "issues_status_updated_idx" ON "issues" ("status", "updated_at") `);
    await queryRunner.query(`CREATE INDEX "issues_user_updated_idx" ON "issues" ("user_id", "updated_at") `);
    await queryRunner.query(`DROP INDEX "issue_messages_issue_position_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_issue_messages" ("id" varchar PRIMARY KEY NOT NULL, "issue_id" varchar NOT NULL, "position" integer NOT NULL, "sender_id" varchar, "sender_type" varchar CHECK( "sender_type" IN ('user','admin') ) NOT NULL, "body" text NOT NULL, "created_at" datetime NOT NULL, "read_by_user_at" datetime, "read_by_admin_at" datetime, CONSTRAINT "FK_bcc55dcd96f6de3e9ae16b7a7a9" FOREIGN KEY ("issue_id") REFERENCES "issues" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_issue_messages"("id", "issue_id", "position", "sender_id", "sender_type", "body", "created_at", "read_by_user_at", "read_by_admin_at") SELECT "id", "issue_id", "position", "sender_id", "sender_type", "body", "created_at", "read_by_user_at", "read_by_admin_at" FROM "issue_messages"`);
    await queryRunner.query(`DROP TABLE "issue_messages"`);
    await queryRunner.query(`ALTER TABLE "temporary_issue_messages" RENAME TO "issue_messages"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "issue_messages_issue_position_key" ON "issue_messages" ("issue_id", "position") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "issue_messages_issue_position_key"`);
    await queryRunner.query(`ALTER TABLE "issue_messages" RENAME TO "temporary_issue_messages"`);
    await queryRunner.query(`CREATE TABLE "issue_messages" ("id" varchar PRIMARY KEY NOT NULL, "issue_id" varchar NOT NULL, "position" integer NOT NULL, "sender_id" varchar, "sender_type" varchar CHECK( "sender_type" IN ('user','admin') ) NOT NULL, "body" text NOT NULL, "created_at" datetime NOT NULL, "read_by_user_at" datetime, "read_by_admin_at" datetime)`);
    await queryRunner.query(`INSERT INTO "issue_messages"("id", "issue_id", "position", "sender_id", "sender_type", "body", "created_at", "read_by_user_at", "read_by_admin_at") SELECT "id", "issue_id", "position", "sender_id", "sender_type", "body", "created_at", "read_by_user_at", "read_by_admin_at" FROM "temporary_issue_messages"`);
    await queryRunner.query(`DROP TABLE "temporary_issue_messages"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "issue_messages_issue_position_key" ON "issue_messages" ("issue_id", "position") `);
    await queryRunner.query(`DROP INDEX "issues_user_updated_idx"`);
    await queryRunner.query(`DROP INDEX "issues_status_updated_idx"`);
    await queryRunner.query(`DROP INDEX "issues_workspace_id_idx"`);
    await queryRunner.query(`ALTER TABLE "issues" RENAME TO "temporary_issues"`);
    await queryRunner.query(`CREATE TABLE "issues" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "user_email" varchar(320) NOT NULL, "user_name" varchar(320) NOT NULL, "user_plan" varchar(100), "user_role" varchar(20), "workspace_plan" varchar(100), "workspace_role" varchar(20), "description" text NOT NULL, "status" varchar CHECK( "status" IN ('open','waiting_admin','waiting_user') ) NOT NULL DEFAULT ('open'), "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`INSERT INTO "issues"("id", "user_id", "workspace_id", "user_email", "user_name", "user_plan", "user_role", "workspace_plan", "workspace_role", "description", "status", "created_at", "updated_at") SELECT "id", "user_id", "workspace_id", "user_email", "user_name", "user_plan", "user_role", "workspace_plan", "workspace_role", "description", "status", "created_at", "updated_at" FROM "temporary_issues"`);
    await queryRunner.query(`DROP TABLE "temporary_issues"`);
    await queryRunner.query(`CREATE INDEX "issues_user_updated_idx" ON "issues" ("user_id", "updated_at") `);
    await queryRunner.query(`CREATE INDEX "issues_status_updated_idx" ON "issues" ("status", "updated_at") `);
    await queryRunner.query(`CREATE INDEX "issues_workspace_id_idx" ON "issues" ("workspace_id") `);
    await queryRunner.query(`DROP INDEX "issue_messages_issue_position_key"`);
    await queryRunner.query(`DROP TABLE "issue_messages"`);
    await queryRunner.query(`DROP INDEX "issues_user_updated_idx"`);
    await queryRunner.query(`DROP INDEX "issues_status_updated_idx"`);
    await queryRunner.query(`DROP INDEX "issues_workspace_id_idx"`);
    await queryRunner.query(`DROP TABLE "issues"`);
  }
}
