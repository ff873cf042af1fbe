import { MigrationInterface, QueryRunner } from 'typeorm';

export class WorkspaceInvitations1796299812664 implements MigrationInterface {
  name = 'WorkspaceInvitations1796299812664';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."workspace_invitations_role_enum" AS ENUM('owner', 'admin', 'user', 'viewer')`);
    await queryRunner.query(`CREATE TYPE "public"."workspace_invitations_status_enum" AS ENUM('pending', 'accepted', 'declined', 'revoked')`);
    await queryRunner.query(`CREATE TABLE "workspace_invitations" ("id" uuid NOT NULL, "workspace_id" uuid NOT NULL, "email" character varying(320) NOT NULL, "role" "public"."workspace_invitations_role_enum" NOT NULL, "token_hash" character varying(64) NOT NULL, "status" "public"."workspace_invitations_status_enum" NOT NULL DEFAULT 'pending', "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "accepted_at" TIMESTAMP WITH TIME ZONE, "declined_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_525b9069dc828a8ee8fdc62c32c" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workspace_invitations_token_hash_key" ON "workspace_invitations"  ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_created_by_idx" ON "workspace_invitations"  ("created_by") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_email_status_idx" ON "workspace_invitations"  ("email", "status") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_workspace_status_idx" ON "workspace_invitations"  ("workspace_id", "status") `);
    await queryRunner.query(`ALTER TABLE "workspace_invitations" ADD CONSTRAINT "FK_cf5df369b7a86ea3cdf18c7b56d" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "workspace_invitations" ADD CONSTRAINT "FK_ebebb9e4c86f8f1dc43634ae4ce" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workspace_invitations" DROP CONSTRAINT "FK_ebebb9e4c86f8f1dc43634ae4ce"`);
    await queryRunner.query(`ALTER TABLE "workspace_invitations" DROP CONSTRAINT "FK_cf5df369b7a86ea3cdf18c7b56d"`);
    await queryRunner.query(`DROP INDEX "public"."workspace_invitations_workspace_status_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workspace_invitations_email_status_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workspace_invitations_created_by_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workspace_invitations_token_hash_key"`);
    await queryRunner.query(`DROP TABLE "workspace_invitations"`);
    await queryRunner.query(`DROP TYPE "public"."workspace_invitations_status_enum"`);
    await queryRunner.query(`DROP TYPE "public"."workspace_invitations_role_enum"`);
  }
}
