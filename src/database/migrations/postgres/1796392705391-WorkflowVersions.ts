import { MigrationInterface, QueryRunner } from 'typeorm';

export class WorkflowVersions1796392705391 implements MigrationInterface {
  name = 'WorkflowVersions1796392705391';

  // Generated, plus: every existing workflow gets its current state as version 1 (who saved it last is not known).
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workflow_versions" ("workflow_id" uuid NOT NULL, "number" integer NOT NULL, "name" character varying(200) NOT NULL, "description" text, "data" jsonb NOT NULL, "created_by" uuid, "summary" character varying(500) NOT NULL, "restored_from" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_6cdc2653018303c5a4e809e5bbc" PRIMARY KEY ("workflow_id", "number"))`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD "version" integer NOT NULL DEFAULT '1'`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD "workflow_version" integer`);
    await queryRunner.query(`ALTER TABLE "workflow_versions" ADD CONSTRAINT "FK_535cc897570fe88cb9733411ecc" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(
      `INSERT INTO "workflow_versions" ("workflow_id", "number", "name", "description", "data", "created_by", "summary", "restored_from", "created_at")
       SELECT "id", 1, "name", "description", "data", NULL, 'Recorded when versions were introduced', NULL, "updated_at" FROM "workflows"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_versions" DROP CONSTRAINT "FK_535cc897570fe88cb9733411ecc"`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "workflow_version"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "version"`);
    await queryRunner.query(`DROP TABLE "workflow_versions"`);
  }
}
