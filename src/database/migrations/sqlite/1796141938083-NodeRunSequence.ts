import { MigrationInterface, QueryRunner } from 'typeorm';

export class NodeRunSequence1796141938083 implements MigrationInterface {
  name = 'NodeRunSequence1796141938083';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_node_runs_run_node_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_workflow_node_runs" ("id" varchar PRIMARY KEY NOT NULL, "run_id" varchar NOT NULL, "node_id" varchar(200) NOT NULL, "name" varchar(300) NOT NULL, "node_type" varchar(100) NOT NULL, "inputs" text, "outputs" text, "status" varchar(16) NOT NULL, "error" text, "started_at" datetime NOT NULL, "finished_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "sequence" integer NOT NULL DEFAULT (0), CONSTRAINT "FK_bfee85664efbcb9e23c97dbfbb4" FOREIGN KEY ("run_id") REFERENCES "workflow_runs" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workflow_node_runs"("id", "run_id", "node_id", "name", "node_type", "inputs", "outputs", "status", "error", "started_at", "finished_at", "created_at", "updated_at") SELECT "id", "run_id", "node_id", "name", "node_type", "inputs", "outputs", "status", "error", "started_at", "finished_at", "created_at", "updated_at" FROM "workflow_node_runs"`);
    await queryRunner.query(`DROP TABLE "workflow_node_runs"`);
    await queryRunner.query(`ALTER TABLE "temporary_workflow_node_runs" RENAME TO "workflow_node_runs"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_node_runs_run_node_key" ON "workflow_node_runs" ("run_id", "node_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_node_runs_run_node_key"`);
    await queryRunner.query(`ALTER TABLE "workflow_node_runs" RENAME TO "temporary_workflow_node_runs"`);
    await queryRunner.query(`CREATE TABLE "workflow_node_runs" ("id" varchar PRIMARY KEY NOT NULL, "run_id" varchar NOT NULL, "node_id" varchar(200) NOT NULL, "name" varchar(300) NOT NULL, "node_type" varchar(100) NOT NULL, "inputs" text, "outputs" text, "status" varchar(16) NOT NULL, "error" text, "started_at" datetime NOT NULL, "finished_at" datetime, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_bfee85664efbcb9e23c97dbfbb4" FOREIGN KEY ("run_id") REFERENCES "workflow_runs" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "workflow_node_runs"("id", "run_id", "node_id", "name", "node_type", "inputs", "outputs", "status", "error", "started_at", "finished_at", "created_at", "updated_at") SELECT "id", "run_id", "node_id", "name", "node_type", "inputs", "outputs", "status", "error", "started_at", "finished_at", "created_at", "updated_at" FROM "temporary_workflow_node_runs"`);
    await queryRunner.query(`DROP TABLE "temporary_workflow_node_runs"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_node_runs_run_node_key" ON "workflow_node_runs" ("run_id", "node_id") `);
  }
}
