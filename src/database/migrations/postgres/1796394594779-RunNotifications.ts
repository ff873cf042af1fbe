import { MigrationInterface, QueryRunner } from 'typeorm';

export class RunNotifications1796394594779 implements MigrationInterface {
  name = 'RunNotifications1796394594779';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workflow_notification_endpoints" ("id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "url" character varying(2048) NOT NULL, "statuses" jsonb NOT NULL, "secret" text NOT NULL, "previous_secret" text, "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_11a42666fa5e6cde03b163914f0" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "workflow_notification_endpoints_workflow_idx" ON "workflow_notification_endpoints"  ("workflow_id") `);
    await queryRunner.query(`CREATE TABLE "workflow_notification_deliveries" ("id" uuid NOT NULL, "endpoint_id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "run_id" uuid NOT NULL, "event" character varying(32) NOT NULL, "payload" text NOT NULL, "status" character varying(16) NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL, "claimed_by" character varying(100), "claim_expires_at" TIMESTAMP WITH TIME ZONE, "log" jsonb NOT NULL, "delivered_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_9b408decb1035cd0cad924bbcf7" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_endpoint_created_idx" ON "workflow_notification_deliveries"  ("endpoint_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_notification_deliveries_due_idx" ON "workflow_notification_deliveries"  ("status", "next_attempt_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_notification_deliveries_endpoint_run_key" ON "workflow_notification_deliveries"  ("endpoint_id", "run_id") `);
    await queryRunner.query(`ALTER TABLE "workflow_notification_endpoints" ADD CONSTRAINT "FK_ada21aa60640438b583d4698b10" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflow_notification_deliveries" ADD CONSTRAINT "FK_7fd76e951524b9827a8be2a5559" FOREIGN KEY ("endpoint_id") REFERENCES "workflow_notification_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_notification_deliveries" DROP CONSTRAINT "FK_7fd76e951524b9827a8be2a5559"`);
    await queryRunner.query(`ALTER TABLE "workflow_notification_endpoints" DROP CONSTRAINT "FK_ada21aa60640438b583d4698b10"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_notification_deliveries_endpoint_run_key"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_notification_deliveries_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_notification_deliveries_endpoint_created_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_notification_deliveries"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_notification_endpoints_workflow_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_notification_endpoints"`);
  }
}
