import { MigrationInterface, QueryRunner } from 'typeorm';

export class EgressBlocks1795633234678 implements MigrationInterface {
  name = 'EgressBlocks1795633234678';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "egress_block_events" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "run_id" uuid, "node_id" character varying(200), "url" text NOT NULL, "host" character varying(300) NOT NULL, "rule" character varying(32) NOT NULL, "message" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_a4cacee92666f56a59a73b8063b" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "egress_block_events_workflow_created_idx" ON "egress_block_events"  ("workflow_id", "created_at") `);
    await queryRunner.query(`ALTER TABLE "egress_block_events" ADD CONSTRAINT "FK_d2e497d7dc0865ff7d4d00a58f1" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "egress_block_events" DROP CONSTRAINT "FK_d2e497d7dc0865ff7d4d00a58f1"`);
    await queryRunner.query(`DROP INDEX "public"."egress_block_events_workflow_created_idx"`);
    await queryRunner.query(`DROP TABLE "egress_block_events"`);
  }
}
