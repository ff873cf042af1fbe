import { MigrationInterface, QueryRunner } from 'typeorm';

export class Runs1795629949968 implements MigrationInterface {
  name = 'Runs1795629949968';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workflow_runs" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "workspace_id" uuid, "snapshot" jsonb NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'queued', "error" text, "idempotency_key" character varying(255), "idempotency_scope" uuid NOT NULL, "triggered_by" character varying(100) NOT NULL, "queue_priority" integer NOT NULL DEFAULT '0', "leased_by" character varying(100), "lease_expires_at" TIMESTAMP WITH TIME ZONE, "heartbeat_at" TIMESTAMP WITH TIME ZONE, "attempt" integer NOT NULL DEFAULT '0', "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resume_at" TIMESTAMP WITH TIME ZONE NOT NULL, "first_claimed_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_eea9f8d0a660b3f48114c313233" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_runs_idempotency_key" ON "workflow_runs"  ("idempotency_scope", "workflow_id", "idempotency_key") WHERE idempotency_key IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "workflow_runs_user_created_idx" ON "workflow_runs"  ("user_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workspace_created_idx" ON "workflow_runs"  ("workspace_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_queue_idx" ON "workflow_runs"  ("status", "resume_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workflow_status_idx" ON "workflow_runs"  ("workflow_id", "status", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_workflow_created_idx" ON "workflow_runs"  ("workflow_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "workflow_dead_letters" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "run_id" uuid NOT NULL, "error" text NOT NULL, "snapshot" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_6810e951731b884cc352c63691d" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "workflow_dead_letters_workflow_created_idx" ON "workflow_dead_letters"  ("workflow_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "workflow_node_runs" ("id" uuid NOT NULL, "run_id" uuid NOT NULL, "node_id" character varying(200) NOT NULL, "name" character varying(300) NOT NULL, "node_type" character varying(100) NOT NULL, "inputs" jsonb, "outputs" jsonb, "status" character varying(16) NOT NULL, "error" text, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "finished_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_5f8a7cadfeebd35db94cc3bcce3" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_node_runs_run_node_key" ON "workflow_node_runs"  ("run_id", "node_id") `);
    await queryRunner.query(`CREATE TABLE "workflow_run_events" ("id" uuid NOT NULL, "workflow_run_id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "workspace_id" uuid, "triggered_by" character varying(100) NOT NULL, "connection_type" character varying(64), "connection_id" uuid, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0a1ef4b73fe5f3dc00ee28756f0" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "workflow_run_events_run_idx" ON "workflow_run_events"  ("workflow_run_id") `);
    await queryRunner.query(`CREATE TABLE "workspace_run_usage" ("workspace_id" uuid NOT NULL, "period_start" character varying(32) NOT NULL, "run_count" integer NOT NULL DEFAULT '0', "overage_count" integer NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_d5f0d78be77bf1901d6ab97d42e" PRIMARY KEY ("workspace_id", "period_start"))`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD CONSTRAINT "FK_a2995918456c0a612cf1e5ba22a" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflow_dead_letters" ADD CONSTRAINT "FK_88d6b8ff9f5fbcaad83fb88e3b6" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflow_dead_letters" ADD CONSTRAINT "FK_3fa16d85f45552d8272cec79739" FOREIGN KEY ("run_id") REFERENCES "workflow_runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflow_node_runs" ADD CONSTRAINT "FK_bfee85664efbcb9e23c97dbfbb4" FOREIGN KEY ("run_id") REFERENCES "workflow_runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflow_run_events" ADD CONSTRAINT "FK_2c840f71b3792ff3f122b995e73" FOREIGN KEY ("workflow_run_id") REFERENCES "workflow_runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_run_events" DROP CONSTRAINT "FK_2c840f71b3792ff3f122b995e73"`);
    await queryRunner.query(`ALTER TABLE "workflow_node_runs" DROP CONSTRAINT "FK_bfee85664efbcb9e23c97dbfbb4"`);
    await queryRunner.query(`ALTER TABLE "workflow_dead_letters" DROP CONSTRAINT "FK_3fa16d85f45552d8272cec79739"`);
    await queryRunner.query(`ALTER TABLE "workflow_dead_letters" DROP CONSTRAINT "FK_88d6b8ff9f5fbcaad83fb88e3b6"`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP CONSTRAINT "FK_a2995918456c0a612cf1e5ba22a"`);
    await queryRunner.query(`DROP TABLE "workspace_run_usage"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_run_events_run_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_run_events"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_node_runs_run_node_key"`);
    await queryRunner.query(`DROP TABLE "workflow_node_runs"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_dead_letters_workflow_created_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_dead_letters"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_workflow_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_workflow_status_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_queue_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_workspace_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_user_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_idempotency_key"`);
    await queryRunner.query(`DROP TABLE "workflow_runs"`);
  }
}
