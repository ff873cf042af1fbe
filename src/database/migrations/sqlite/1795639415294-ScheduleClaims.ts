import { MigrationInterface, QueryRunner } from 'typeorm';

export class ScheduleClaims1795639415294 implements MigrationInterface {
  name = 'ScheduleClaims1795639415294';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_schedules_due_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_schedules_workflow_id_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflow_schedules" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "trigger_node_id" varchar(200), "config" text, "next_run_at" datetime, "last_run_at" datetime, "enabled" boolean NOT NULL DEFAULT (1), "last_error" text, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "last_skip_reason" text, "last_skipped_at" datetime, "claimed_by" varchar(100), "claim_expires_at" datetime, CONSTRAINT "REL_8347fda878908e52e2350ef978" UNIQUE ("workflow_id"), CONSTRAINT "FK_8347fda878908e52e2350ef978d" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflow_schedules"("id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at") SELECT "id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at" FROM "workflow_schedules"`);
    await queryRunner.query(`DROP TABLE "workflow_schedules"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflow_schedules" RENAME TO "workflow_schedules"`);
    await queryRunner.query(`CREATE INDEX "workflow_schedules_due_idx" ON "workflow_schedules" ("enabled", "next_run_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_schedules_workflow_id_key" ON "workflow_schedules" ("workflow_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_schedules_workflow_id_key"`);
    await queryRunner.query(`DROP INDEX "workflow_schedules_due_idx"`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" RENAME TO "temporary_workflow_schedules"`);
    await queryRunner.query(`CREATE TABLE "workflow_schedules" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "user_id" varchar NOT NULL, "workspace_id" varchar, "trigger_node_id" varchar(200), "config" text, "next_run_at" datetime, "last_run_at" datetime, "enabled" boolean NOT NULL DEFAULT (1), "last_error" text, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "REL_8347fda878908e52e2350ef978" UNIQUE ("workflow_id"), CONSTRAINT "FK_8347fda878908e52e2350ef978d" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "workflow_schedules"("id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at") SELECT "id", "workflow_id", "user_id", "workspace_id", "trigger_node_id", "config", "next_run_at", "last_run_at", "enabled", "last_error", "created_at", "updated_at" FROM "temporary_workflow_schedules"`);
    await queryRunner.query(`DROP TABLE "temporary_workflow_schedules"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_schedules_workflow_id_key" ON "workflow_schedules" ("workflow_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_schedules_due_idx" ON "workflow_schedules" ("enabled", "next_run_at") `);
  }
}
