import { MigrationInterface, QueryRunner } from 'typeorm';

export class RunNotifications1796394592714 implements MigrationInterface {
  name = 'RunNotifications1796394592714';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workflow_notification_endpoints" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "url" varchar(2048) NOT NULL, "statuses" text NOT NULL, "secret" text NOT NULL, "previous_secret" text, "previous_secret_expires_at" datetime, "created_by" varchar NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "workflow_notification_endpoints_workflow_idx" ON "workflow_notification_endpoints" ("workflow_id") `);
    await queryRunner.query(`CREATE TABLE "workflow_notification_deliveries" ("id" varchar PRIMARY KEY NOT NULL, "endpoint_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "run_id" varchar NOT NULL, "event" varchar(32) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime NOT NULL, "claimed_by" varchar(100), "claim_expires_at" datetime, "log" text NOT NULL, "delivered_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_endpoint_created_idx" ON "workflow_notification_deliveries" ("endpoint_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_due_idx" ON "workflow_notification_deliveries" ("status", "next_attempt_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_notification_deliveries_endpoint_run_key" ON "workflow_notification_deliveries" ("endpoint_id", "run_id") `);
    await queryRunner.query(`DROP INDEX "workflow_notification_endpoints_workflow_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflow_notification_endpoints" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "url" varchar(2048) NOT NULL, "statuses" text NOT NULL, "secret" text NOT NULL, "previous_secret" text, "previous_secret_expires_at" datetime, "created_by" varchar NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_ada21aa60640438b583d4698b10" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflow_notification_endpoints"("id", "workflow_id", "url", "statuses", "secret", "previous_secret", "previous_secret_expires_at", "created_by", "created_at", "updated_at") SELECT "id", "workflow_id", "url", "statuses", "secret", "previous_secret", "previous_secret_expires_at", "created_by", "created_at", "updated_at" FROM "workflow_notification_endpoints"`);
    await queryRunner.query(`DROP TABLE "workflow_notification_endpoints"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflow_notification_endpoints" RENAME TO "workflow_notification_endpoints"`);
    await queryRunner.query(`CREATE INDEX "workflow_notification_endpoints_workflow_idx" ON "workflow_notification_endpoints" ("workflow_id") `);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_endpoint_created_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_due_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_endpoint_run_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflow_notification_deliveries" ("id" varchar PRIMARY KEY NOT NULL, "endpoint_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "run_id" varchar NOT NULL, "event" varchar(32) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime NOT NULL, "claimed_by" varchar(100), "claim_expires_at" datetime, "log" text NOT NULL, "delivered_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_7fd76e951524b9827a8be2a5559" FOREIGN KEY ("endpoint_id") REFERENCES "workflow_notification_endpoints" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflow_notification_deliveries"("id", "endpoint_id", "workflow_id", "run_id", "event", "payload", "status", "attempts", "next_attempt_at", "claimed_by", "claim_expires_at", "log", "delivered_at", "created_at", "updated_at") SELECT "id", "endpoint_id", "workflow_id", "run_id", "event", "payload", "status", "attempts", "next_attempt_at", "claimed_by", "claim_expires_at", "log", "delivered_at", "created_at", "updated_at" FROM "workflow_notification_deliveries"`);
    await queryRunner.query(`DROP TABLE "workflow_notification_deliveries"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflow_notification_deliveries" RENAME TO "workflow_notification_deliveries"`);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_endpoint_created_idx" ON "workflow_notification_deliveries" ("endpoint_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_due_idx" ON "workflow_notification_deliveries" ("status", "next_attempt_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_notification_deliveries_endpoint_run_key" ON "workflow_notification_deliveries" ("endpoint_id", "run_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_endpoint_run_key"`);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_due_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_endpoint_created_idx"`);
    await queryRunner.query(`ALTER TABLE "workflow_notification_deliveries" RENAME TO "temporary_workflow_notification_deliveries"`);
    await queryRunner.query(`CREATE TABLE "workflow_notification_deliveries" ("id" varchar PRIMARY KEY NOT NULL, "endpoint_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "run_id" varchar NOT NULL, "event" varchar(32) NOT NULL, "payload" text NOT NULL, "status" varchar(16) NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime NOT NULL, "claimed_by" varchar(100), "claim_expires_at" datetime, "log" text NOT NULL, "delivered_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`INSERT INTO "workflow_notification_deliveries"("id", "endpoint_id", "workflow_id", "run_id", "event", "payload", "status", "attempts", "next_attempt_at", "claimed_by", "claim_expires_at", "log", "delivered_at", "created_at", "updated_at") SELECT "id", "endpoint_id", "workflow_id", "run_id", "event", "payload", "status", "attempts", "next_attempt_at", "claimed_by", "claim_expires_at", "log", "delivered_at", "created_at", "updated_at" FROM "temporary_workflow_notification_deliveries"`);
    await queryRunner.query(`DROP TABLE "temporary_workflow_notification_deliveries"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_notification_deliveries_endpoint_run_key" ON "workflow_notification_deliveries" ("endpoint_id", "run_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_due_idx" ON "workflow_notification_deliveries" ("status", "next_attempt_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_endpoint_created_idx" ON "workflow_notification_deliveries" ("endpoint_id", "created_at") `);
    await queryRunner.query(`DROP INDEX "workflow_notification_endpoints_workflow_idx"`);
    await queryRunner.query(`ALTER TABLE "workflow_notification_endpoints" RENAME TO "temporary_workflow_notification_endpoints"`);
    await queryRunner.query(`CREATE TABLE "workflow_notification_endpoints" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "url" varchar(2048) NOT NULL, "statuses" text NOT NULL, "secret" text NOT NULL, "previous_secret" text, "previous_secret_expires_at" datetime, "created_by" varchar NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL)`);
    await queryRunner.query(`INSERT INTO "workflow_notification_endpoints"("id", "workflow_id", "url", "statuses", "secret", "previous_secret", "previous_secret_expires_at", "created_by", "created_at", "updated_at") SELECT "id", "workflow_id", "url", "statuses", "secret", "previous_secret", "previous_secret_expires_at", "created_by", "created_at", "updated_at" FROM "temporary_workflow_notification_endpoints"`);
    await queryRunner.query(`DROP TABLE "temporary_workflow_notification_endpoints"`);
    await queryRunner.query(`CREATE INDEX "workflow_notification_endpoints_workflow_idx" ON "workflow_notification_endpoints" ("workflow_id") `);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_endpoint_run_key"`);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_due_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_notification_deliveries_endpoint_created_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_notification_deliveries"`);
    await queryRunner.query(`DROP INDEX "workflow_notification_endpoints_workflow_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_notification_endpoints"`);
  }
}
