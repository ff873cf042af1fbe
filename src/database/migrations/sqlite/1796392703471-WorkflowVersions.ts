import { MigrationInterface, QueryRunner } from 'typeorm';

export class WorkflowVersions1796392703471 implements MigrationInterface {
  name = 'WorkflowVersions1796392703471';

  // Edited from the generated table rebuilds: columns added in place do not copy every workflow and
  // run, and leave the same schema (`migration:check` compares). Every existing workflow gets its
  // current state as version 1 (who saved it last is not known).
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workflow_versions" ("workflow_id" varchar NOT NULL, "number" integer NOT NULL, "name" varchar(200) NOT NULL, "description" text, "data" text NOT NULL, "created_by" varchar, "summary" varchar(500) NOT NULL, "restored_from" integer, "created_at" datetime NOT NULL, CONSTRAINT "FK_535cc897570fe88cb9733411ecc" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("workflow_id", "number"))`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD COLUMN "version" integer NOT NULL DEFAULT (1)`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD COLUMN "workflow_version" integer`);
    await queryRunner.query(
      `INSERT INTO "workflow_versions" ("workflow_id", "number", "name", "description", "data", "created_by", "summary", "restored_from", "created_at")
       SELECT "id", 1, "name", "description", "data", NULL, 'Recorded when versions were introduced', NULL, "updated_at" FROM "workflows"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "workflow_version"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "version"`);
    await queryRunner.query(`DROP TABLE "workflow_versions"`);
  }
}
