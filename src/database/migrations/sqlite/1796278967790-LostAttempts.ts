import { MigrationInterface, QueryRunner } from 'typeorm';

export class LostAttempts1796278967790 implements MigrationInterface {
  name = 'LostAttempts1796278967790';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_runs_claim_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_workflow_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_workflow_status_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_queue_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_workspace_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_user_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_idempotency_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflow_runs" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "workspace_id" varchar, "snapshot" text NOT NULL, "status" varchar(16) NOT NULL DEFAULT ('queued'), "error" text, "idempotency_key" varchar(255), "idempotency_scope" varchar NOT NULL, "triggered_by" varchar(100) NOT NULL, "queue_priority" integer NOT NULL DEFAULT (0), "leased_by" varchar(100), "lease_expires_at" datetime, "heartbeat_at" datetime, "attempt" integer NOT NULL DEFAULT (0), "started_at" datetime NOT NULL, "resume_at" datetime NOT NULL, "first_claimed_at" datetime, "finished_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "lost_attempts" integer NOT NULL DEFAULT (0), CONSTRAINT "FK_a2995918456c0a612cf1e5ba22a" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflow_runs"("id", "user_id", "workflow_id", "workspace_id", "snapshot", "status", "error", "idempotency_key", "idempotency_scope", "triggered_by", "queue_priority", "leased_by", "lease_expires_at", "heartbeat_at", "attempt", "started_at", "resume_at", "first_claimed_at", "finished_at", "created_at", "updated_at") SELECT "id", "user_id", "workflow_id", "workspace_id", "snapshot", "status", "error", "idempotency_key", "idempotency_scope", "triggered_by", "queue_priority", "leased_by", "lease_expires_at", "heartbeat_at", "attempt", "started_at", "resume_at", "first_claimed_at", "finished_at", "created_at", "updated_at" FROM "workflow_runs"`);
    await queryRunner.query(`DROP TABLE "workflow_runs"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflow_runs" RENAME TO "workflow_runs"`);
    await queryRunner.query(`CREATE INDEX "workflow_runs_claim_idx" ON "workflow_runs" ("status", "resume_at", "idempotency_scope", "queue_priority", "created_at", "workflow_id", "id") WHERE status = 'queued'`);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workflow_created_idx" ON "workflow_runs" ("workflow_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workflow_status_idx" ON "workflow_runs" ("workflow_id", "status", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_queue_idx" ON "workflow_runs" ("status", "resume_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workspace_created_idx" ON "workflow_runs" ("workspace_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_user_created_idx" ON "workflow_runs" ("user_id", "created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_runs_idempotency_key" ON "workflow_runs" ("idempotency_scope", "workflow_id", "idempotency_key") WHERE idempotency_key IS NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_runs_idempotency_key"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_user_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_workspace_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_queue_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_workflow_status_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_workflow_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_claim_idx"`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" RENAME TO "temporary_workflow_runs"`);
    await queryRunner.query(`CREATE TABLE "workflow_runs" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "workspace_id" varchar, "snapshot" text NOT NULL, "status" varchar(16) NOT NULL DEFAULT ('queued'), "error" text, "idempotency_key" varchar(255), "idempotency_scope" varchar NOT NULL, "triggered_by" varchar(100) NOT NULL, "queue_priority" integer NOT NULL DEFAULT (0), "leased_by" varchar(100), "lease_expires_at" datetime, "heartbeat_at" datetime, "attempt" integer NOT NULL DEFAULT (0), "started_at" datetime NOT NULL, "resume_at" datetime NOT NULL, "first_claimed_at" datetime, "finished_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_a2995918456c0a612cf1e5ba22a" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "workflow_runs"("id", "user_id", "workflow_id", "workspace_id", "snapshot", "status", "error", "idempotency_key", "idempotency_scope", "triggered_by", "queue_priority", "leased_by", "lease_expires_at", "heartbeat_at", "attempt", "started_at", "resume_at", "first_claimed_at", "finished_at", "created_at", "updated_at") SELECT "id", "user_id", "workflow_id", "workspace_id", "snapshot", "status", "error", "idempotency_key", "idempotency_scope", "triggered_by", "queue_priority", "leased_by", "lease_expires_at", "heartbeat_at", "attempt", "started_at", "resume_at", "first_claimed_at", "finished_at", "created_at", "updated_at" FROM "temporary_workflow_runs"`);
    await queryRunner.query(`DROP TABLE "temporary_workflow_runs"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_runs_idempotency_key" ON "workflow_runs" ("idempotency_scope", "workflow_id", "idempotency_key") WHERE idempotency_key IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "workflow_runs_user_created_idx" ON "workflow_runs" ("user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workspace_created_idx" ON "workflow_runs" ("workspace_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_queue_idx" ON "workflow_runs" ("status", "resume_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workflow_status_idx" ON "workflow_runs" ("workflow_id", "status", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workflow_created_idx" ON "workflow_runs" ("workflow_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_claim_idx" ON "workflow_runs" ("status", "resume_at", "idempotency_scope", "queue_priority", "created_at", "workflow_id", "id") WHERE status = 'queued'`);
  }
}
