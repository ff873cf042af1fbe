import { MigrationInterface, QueryRunner } from 'typeorm';

export class Workflows1795629219096 implements MigrationInterface {
  name = 'Workflows1795629219096';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "user_secrets" ("user_id" varchar NOT NULL, "group_key" varchar(100) NOT NULL, "service_key" varchar(100) NOT NULL, "name" varchar(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`CREATE TABLE "workflows" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "scope_id" varchar NOT NULL, "name" varchar(200) NOT NULL, "name_key" varchar(200) NOT NULL, "description" text, "data" text NOT NULL, "concurrency_limit" integer NOT NULL DEFAULT (1), "egress_allowlist" text NOT NULL, "require_hmac" boolean NOT NULL DEFAULT (0), "hmac_replay_window_sec" integer NOT NULL DEFAULT (300), "webhook_salt" varchar NOT NULL, "locked_by" varchar, "locked_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "workflows_user_id_idx" ON "workflows" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "workflows_workspace_id_idx" ON "workflows" ("workspace_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflows_scope_name_key" ON "workflows" ("scope_id", "name_key") `);
    await queryRunner.query(`CREATE TABLE "workflow_logs" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "workspace_id" varchar, "diffs" text NOT NULL, "created_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "workflow_logs_user_id_idx" ON "workflow_logs" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_logs_workflow_created_idx" ON "workflow_logs" ("workflow_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "workflow_schedules" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "trigger_node_id" varchar(200), "config" text, "next_run_at" datetime, "last_run_at" datetime, "enabled" boolean NOT NULL DEFAULT (1), "last_error" text, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "REL_8347fda878908e52e2350ef978" UNIQUE ("workflow_id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_schedules_workflow_id_key" ON "workflow_schedules" ("workflow_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_schedules_due_idx" ON "workflow_schedules" ("enabled", "next_run_at") `);
    await queryRunner.query(`CREATE TABLE "temporary_user_secrets" ("user_id" varchar NOT NULL, "group_key" varchar(100) NOT NULL, "service_key" varchar(100) NOT NULL, "name" varchar(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_c584286beb5ef2c823312479b4f" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`INSERT INTO "temporary_user_secrets"("user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at") SELECT "user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at" FROM "user_secrets"`);
    await queryRunner.query(`DROP TABLE "user_secrets"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_secrets" RENAME TO "user_secrets"`);
    await queryRunner.query(`DROP INDEX "workflows_user_id_idx"`);
    await queryRunner.query(`DROP INDEX "workflows_workspace_id_idx"`);
    await queryRunner.query(`DROP INDEX "workflows_scope_name_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflows" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "scope_id" varchar NOT NULL, "name" varchar(200) NOT NULL, "name_key" varchar(200) NOT NULL, "description" text, "data" text NOT NULL, "concurrency_limit" integer NOT NULL DEFAULT (1), "egress_allowlist" text NOT NULL, "require_hmac" boolean NOT NULL DEFAULT (0), "hmac_replay_window_sec" integer NOT NULL DEFAULT (300), "webhook_salt" varchar NOT NULL, "locked_by" varchar, "locked_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_0a52180b1fead686fa874dcf951" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "FK_cff7dceda71edc109874a34a965" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflows"("id", "user_id", "workspace_id", "scope_id", "name", "name_key", "description", "data", "concurrency_limit", "egress_allowlist", "require_hmac", "hmac_replay_window_sec", "webhook_salt", "locked_by", "locked_at", "created_at", "updated_at") SELECT "id", "user_id", "workspace_id", "scope_id", "name", "name_key", "description", "data", "concurrency_limit", "egress_allowlist", "require_hmac", "hmac_replay_window_sec", "webhook_salt", "locked_by", "locked_at", "created_at", "updated_at" FROM "workflows"`);
    await queryRunner.query(`DROP TABLE "workflows"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflows" RENAME TO "workflows"`);
    await queryRunner.query(`CREATE INDEX "workflows_user_id_idx" ON "workflows" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "workflows_workspace_id_idx" ON "workflows" ("workspace_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflows_scope_name_key" ON "workflows" ("scope_id", "name_key") `);
    await queryRunner.query(`DROP INDEX "workflow_logs_user_id_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_logs_workflow_created_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflow_logs" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "workspace_id" varchar, "diffs" text NOT NULL, "created_at" datetime NOT NULL, CONSTRAINT "FK_afd0529a160fe7d72d323581c52" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflow_logs"("id", "user_id", "workflow_id", "workspace_id", "diffs", "created_at") SELECT "id", "user_id", "workflow_id", "workspace_id", "diffs", "created_at" FROM "workflow_logs"`);
    await queryRunner.query(`DROP TABLE "workflow_logs"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflow_logs" RENAME TO "workflow_logs"`);
    await queryRunner.query(`CREATE INDEX "workflow_logs_user_id_idx" ON "workflow_logs" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_logs_workflow_created_idx" ON "workflow_logs" ("workflow_id", "created_at") `);
    await queryRunner.query(`DROP INDEX "workflow_schedules_workflow_id_key"`);
    await queryRunner.query(`DROP INDEX "workflow_schedules_due_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflow_schedules" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "trigger_node_id" varchar(200), "config" text, "next_run_at" datetime, "last_run_at" datetime, "enabled" boolean NOT NULL DEFAULT (1), "last_error" text, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "REL_8347fda878908e52e2350ef978" UNIQUE ("workflow_id"), CONSTRAINT "FK_8347fda878908e52e2350ef978d" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflow_schedules"("id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at") SELECT "id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at" FROM "workflow_schedules"`);
    await queryRunner.query(`DROP TABLE "workflow_schedules"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflow_schedules" RENAME TO "workflow_schedules"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_schedules_workflow_id_key" ON "workflow_schedules" ("workflow_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_schedules_due_idx" ON "workflow_schedules" ("enabled", "next_run_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_schedules_due_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_schedules_workflow_id_key"`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" RENAME TO "temporary_workflow_schedules"`);
    await queryRunner.query(`CREATE TABLE "workflow_schedules" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "trigger_node_id" varchar(200), "config" text, "next_run_at" datetime, "last_run_at" datetime, "enabled" boolean NOT NULL DEFAULT (1), "last_error" text, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "REL_8347fda878908e52e2350ef978" UNIQUE ("workflow_id"))`);
    await queryRunner.query(`INSERT INTO "workflow_schedules"("id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at") SELECT "id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at" FROM "temporary_workflow_schedules"`);
    await queryRunner.query(`DROP TABLE "temporary_workflow_schedules"`);
    await queryRunner.query(`CREATE INDEX "workflow_schedules_due_idx" ON "workflow_schedules" ("enabled", "next_run_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_schedules_workflow_id_key" ON "workflow_schedules" ("workflow_id") `);
    await queryRunner.query(`DROP INDEX "workflow_logs_workflow_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_logs_user_id_idx"`);
    await queryRunner.query(`ALTER TABLE "workflow_logs" RENAME TO "temporary_workflow_logs"`);
    await queryRunner.query(`CREATE TABLE "workflow_logs" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "workspace_id" varchar, "diffs" text NOT NULL, "created_at" datetime NOT NULL)`);
    await queryRunner.query(`INSERT INTO "workflow_logs"("id", "user_id", "workflow_id", "workspace_id", "diffs", "created_at") SELECT "id", "user_id", "workflow_id", "workspace_id", "diffs", "created_at" FROM "temporary_workflow_logs"`);
    await queryRunner.query(`DROP TABLE "temporary_workflow_logs"`);
    await queryRunner.query(`CREATE INDEX "workflow_logs_workflow_created_idx" ON "workflow_logs" ("workflow_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_logs_user_id_idx" ON "workflow_logs" ("user_id") `);
    await queryRunner.query(`DROP INDEX "workflows_scope_name_key"`);
    await queryRunner.query(`DROP INDEX "workflows_workspace_id_idx"`);
    await queryRunner.query(`DROP INDEX "workflows_user_id_idx"`);
    await queryRunner.query(`ALTER TABLE "workflows" RENAME TO "temporary_workflows"`);
    await queryRunner.query(`CREATE TABLE "workflows" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "scope_id" varchar NOT NULL, "name" varchar(200) NOT NULL, "name_key" varchar(200) NOT NULL, "description" text, "data" text NOT NULL, "concurrency_limit" integer NOT NULL DEFAULT (1), "egress_allowlist" text NOT NULL, "require_hmac" boolean NOT NULL DEFAULT (0), "hmac_replay_window_sec" integer NOT NULL DEFAULT (300), "webhook_salt" varchar NOT NULL, "locked_by" varchar, "locked_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`INSERT INTO "workflows"("id", "user_id", "workspace_id", "scope_id", "name", "name_key", "description", "data", "concurrency_limit", "egress_allowlist", "require_hmac", "hmac_replay_window_sec", "webhook_salt", "locked_by", "locked_at", "created_at", "updated_at") SELECT "id", "user_id", "workspace_id", "scope_id", "name", "name_key", "description", "data", "concurrency_limit", "egress_allowlist", "require_hmac", "hmac_replay_window_sec", "webhook_salt", "locked_by", "locked_at", "created_at", "updated_at" FROM "temporary_workflows"`);
    await queryRunner.query(`DROP TABLE "temporary_workflows"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflows_scope_name_key" ON "workflows" ("scope_id", "name_key") `);
    await queryRunner.query(`CREATE INDEX "workflows_workspace_id_idx" ON "workflows" ("workspace_id") `);
    await queryRunner.query(`CREATE INDEX "workflows_user_id_idx" ON "workflows" ("user_id") `);
    await queryRunner.query(`ALTER TABLE "user_secrets" RENAME TO "temporary_user_secrets"`);
    await queryRunner.query(`CREATE TABLE "user_secrets" ("user_id" varchar NOT NULL, "group_key" varchar(100) NOT NULL, "service_key" varchar(100) NOT NULL, "name" varchar(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`INSERT INTO "user_secrets"("user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at") SELECT "user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at" FROM "temporary_user_secrets"`);
    await queryRunner.query(`DROP TABLE "temporary_user_secrets"`);
    await queryRunner.query(`DROP INDEX "workflow_schedules_due_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_schedules_workflow_id_key"`);
    await queryRunner.query(`DROP TABLE "workflow_schedules"`);
    await queryRunner.query(`DROP INDEX "workflow_logs_workflow_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_logs_user_id_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_logs"`);
    await queryRunner.query(`DROP INDEX "workflows_scope_name_key"`);
    await queryRunner.query(`DROP INDEX "workflows_workspace_id_idx"`);
    await queryRunner.query(`DROP INDEX "workflows_user_id_idx"`);
    await queryRunner.query(`DROP TABLE "workflows"`);
    await queryRunner.query(`DROP TABLE "user_secrets"`);
  }
}
