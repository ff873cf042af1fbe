import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Data only (no schema change): the workspace-plan run quota is counted per paying account (the
 * workspace owner) instead of per workspace, so the counters of a period are folded into one row
 * per owner, keyed by the owner's user id in the same table.
 */
export class QuotaPerAccount1796300309502 implements MigrationInterface {
  name = 'QuotaPerAccount1796300309502';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`INSERT INTO "workspace_run_usage" ("workspace_id", "period_start", "run_count", "overage_count", "updated_at") SELECT w."owner_id", u."period_start", SUM(u."run_count"), SUM(u."overage_count"), MAX(u."updated_at") FROM "workspace_run_usage" u INNER JOIN "workspaces" w ON w."id" = u."workspace_id" WHERE true GROUP BY w."owner_id", u."period_start" ON CONFLICT ("workspace_id", "period_start") DO UPDATE SET "run_count" = "workspace_run_usage"."run_count" + excluded."run_count", "overage_count" = "workspace_run_usage"."overage_count" + excluded."overage_count"`);
    await queryRunner.query(`DELETE FROM "workspace_run_usage" WHERE "workspace_id" IN (SELECT "id" FROM "workspaces")`);
  }

  public async down(): Promise<void> {
    // Per-workspace counts cannot be told apart again; the counters restart with the next period.
  }
}
