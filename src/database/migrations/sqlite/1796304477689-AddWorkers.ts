import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddWorkers1796304477689 implements MigrationInterface {
  name = 'AddWorkers1796304477689';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workers" ("id" varchar(200) PRIMARY KEY NOT NULL, "host" varchar(255) NOT NULL, "pid" integer NOT NULL, "roles" varchar(64) NOT NULL, "started_at" datetime NOT NULL, "last_seen_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "workers_last_seen_idx" ON "workers" ("last_seen_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workers_last_seen_idx"`);
    await queryRunner.query(`DROP TABLE "workers"`);
  }
}
