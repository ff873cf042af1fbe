import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddWorkers1796304481867 implements MigrationInterface {
  name = 'AddWorkers1796304481867';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workers" ("id" character varying(200) NOT NULL, "host" character varying(255) NOT NULL, "pid" integer NOT NULL, "roles" character varying(64) NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_e950c9aba3bd84a4f193058d838" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "workers_last_seen_idx" ON "workers"  ("last_seen_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."workers_last_seen_idx"`);
    await queryRunner.query(`DROP TABLE "workers"`);
  }
}
