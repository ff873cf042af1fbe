import { MigrationInterface, QueryRunner } from 'typeorm';

export class Workflows1795629220361 implements MigrationInterface {
  name = 'Workflows1795629220361';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "user_secrets" ("user_id" uuid NOT NULL, "group_key" character varying(100) NOT NULL, "service_key" character varying(100) NOT NULL, "name" character varying(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_14b4e94d02ac7dc752ae7ade514" PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`CREATE TABLE "workflows" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "workspace_id" uuid, "scope_id" uuid NOT NULL, "name" character varying(200) NOT NULL, "name_key" character varying(200) NOT NULL, "description" text, "data" jsonb NOT NULL, "concurrency_limit" integer NOT NULL DEFAULT '1', "egress_allowlist" jsonb NOT NULL, "require_hmac" boolean NOT NULL DEFAULT false, "hmac_replay_window_sec" integer NOT NULL DEFAULT '300', "webhook_salt" uuid NOT NULL, "locked_by" uuid, "locked_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_5b5757cc1cd86268019fef52e0c" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "workflows_user_id_idx" ON "workflows"  ("user_id") `);
    await queryRunner.query(`CREATE INDEX "workflows_workspace_id_idx" ON "workflows"  ("workspace_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflows_scope_name_key" ON "workflows"  ("scope_id", "name_key") `);
    await queryRunner.query(`CREATE TABLE "workflow_logs" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "workspace_id" uuid, "diffs" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_d5275bf6bf769463439ab307b42" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "workflow_logs_user_id_idx" ON "workflow_logs"  ("user_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_logs_workflow_created_idx" ON "workflow_logs"  ("workflow_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "workflow_schedules" ("id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "user_id" uuid NOT NULL, "workspace_id" uuid, "trigger_node_id" character varying(200), "config" jsonb, "next_run_at" TIMESTAMP WITH TIME ZONE, "last_run_at" TIMESTAMP WITH TIME ZONE, "enabled" boolean NOT NULL DEFAULT true, "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "REL_8347fda878908e52e2350ef978" UNIQUE ("workflow_id"), CONSTRAINT "PK_6c4c2cd5ad440ed1f7cf34a4a28" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_schedules_workflow_id_key" ON "workflow_schedules"  ("workflow_id") `);
    await queryRunner.query(`CREATE INDEX "workflow_schedules_due_idx" ON "workflow_schedules"  ("enabled", "next_run_at") `);
    await queryRunner.query(`ALTER TABLE "user_secrets" ADD CONSTRAINT "FK_c584286beb5ef2c823312479b4f" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD CONSTRAINT "FK_0a52180b1fead686fa874dcf951" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD CONSTRAINT "FK_cff7dceda71edc109874a34a965" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflow_logs" ADD CONSTRAINT "FK_afd0529a160fe7d72d323581c52" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" ADD CONSTRAINT "FK_8347fda878908e52e2350ef978d" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_schedules" DROP CONSTRAINT "FK_8347fda878908e52e2350ef978d"`);
    await queryRunner.query(`ALTER TABLE "workflow_logs" DROP CONSTRAINT "FK_afd0529a160fe7d72d323581c52"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP CONSTRAINT "FK_cff7dceda71edc109874a34a965"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP CONSTRAINT "FK_0a52180b1fead686fa874dcf951"`);
    await queryRunner.query(`ALTER TABLE "user_secrets" DROP CONSTRAINT "FK_c584286beb5ef2c823312479b4f"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_schedules_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_schedules_workflow_id_key"`);
    await queryRunner.query(`DROP TABLE "workflow_schedules"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_logs_workflow_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_logs_user_id_idx"`);
    await queryRunner.query(`DROP TABLE "workflow_logs"`);
    await queryRunner.query(`DROP INDEX "public"."workflows_scope_name_key"`);
    await queryRunner.query(`DROP INDEX "public"."workflows_workspace_id_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflows_user_id_idx"`);
    await queryRunner.query(`DROP TABLE "workflows"`);
    await queryRunner.query(`DROP TABLE "user_secrets"`);
  }
}
