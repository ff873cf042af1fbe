import { MigrationInterface, QueryRunner } from 'typeorm';

export class EmailTokens1796301759445 implements MigrationInterface {
  name = 'EmailTokens1796301759445';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "email_tokens" ("token_hash" character varying(64) NOT NULL, "user_id" uuid NOT NULL, "purpose" character varying(20) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8acb431edfc9f9d0e77741468ed" PRIMARY KEY ("token_hash"))`);
    await queryRunner.query(`CREATE INDEX "email_tokens_expires_at_idx" ON "email_tokens"  ("expires_at") `);
    await queryRunner.query(`CREATE INDEX "email_tokens_user_id_purpose_idx" ON "email_tokens"  ("user_id", "purpose") `);
    await queryRunner.query(`ALTER TABLE "email_tokens" ADD CONSTRAINT "FK_018295f41628791c301bfe8b625" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "email_tokens" DROP CONSTRAINT "FK_018295f41628791c301bfe8b625"`);
    await queryRunner.query(`DROP INDEX "public"."email_tokens_user_id_purpose_idx"`);
    await queryRunner.query(`DROP INDEX "public"."email_tokens_expires_at_idx"`);
    await queryRunner.query(`DROP TABLE "email_tokens"`);
  }
}
