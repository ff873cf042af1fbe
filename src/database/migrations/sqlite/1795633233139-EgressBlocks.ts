import { MigrationInterface, QueryRunner } from 'typeorm';

export class EgressBlocks1795633233139 implements MigrationInterface {
  name = 'EgressBlocks1795633233139';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "egress_block_events" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "run_id" varchar, "node_id" varchar(200), "url" text NOT NULL, "host" varchar(300) NOT NULL, "rule" varchar(32) NOT NULL, "message" text NOT NULL, "created_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "egress_block_events_workflow_created_idx" ON "egress_block_events" ("workflow_id", "created_at") `);
    await queryRunner.query(`DROP INDEX "egress_block_events_workflow_created_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_egress_block_events" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "run_id" varchar, "node_id" varchar(200), "url" text NOT NULL, "host" varchar(300) NOT NULL, "rule" varchar(32) NOT NULL, "message" text NOT NULL, "created_at" datetime NOT NULL, CONSTRAINT "FK_d2e497d7dc0865ff7d4d00a58f1" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_egress_block_events"("id", "user_id", "workflow_id", "run_id", "node_id", "url", "host", "rule", "message", "created_at") SELECT "id", "user_id", "workflow_id", "run_id", "node_id", "url", "host", "rule", "message", "created_at" FROM "egress_block_events"`);
    await queryRunner.query(`DROP TABLE "egress_block_events"`);
    await queryRunner.query(`ALTER TABLE "temporary_egress_block_events" RENAME TO "egress_block_events"`);
    await queryRunner.query(`CREATE INDEX "egress_block_events_workflow_created_idx" ON "egress_block_events" ("workflow_id", "created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "egress_block_events_workflow_created_idx"`);
    await queryRunner.query(`ALTER TABLE "egress_block_events" RENAME TO "temporary_egress_block_events"`);
    await queryRunner.query(`CREATE TABLE "egress_block_events" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "workflow_id" varchar NOT NULL, "run_id" varchar, "node_id" varchar(200), "url" text NOT NULL, "host" varchar(300) NOT NULL, "rule" varchar(32) NOT NULL, "message" text NOT NULL, "created_at" datetime NOT NULL)`);
    await queryRunner.query(`INSERT INTO "egress_block_events"("id", "user_id", "workflow_id", "run_id", "node_id", "url", "host", "rule", "message", "created_at") SELECT "id", "user_id", "workflow_id", "run_id", "node_id", "url", "host", "rule", "message", "created_at" FROM "temporary_egress_block_events"`);
    await queryRunner.query(`DROP TABLE "temporary_egress_block_events"`);
    await queryRunner.query(`CREATE INDEX "egress_block_events_workflow_created_idx" ON "egress_block_events" ("workflow_id", "created_at") `);
    await queryRunner.query(`DROP INDEX "egress_block_events_workflow_created_idx"`);
    await queryRunner.query(`DROP TABLE "egress_block_events"`);
  }
}
