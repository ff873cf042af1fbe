import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { IsString, IsUUID, ValidateIf } from 'class-validator';

export const SECRET_MASK = '*****************';

/**
 * `{group:{service:{name:{value:"*****************",owner_id,workspace_id}}}}`: `workspace_id` is the
 * workspace the owner shares the secret with, null when it is personal.
 */
export type SecretTree = Record<
  string,
  Record<string, Record<string, { value: string; owner_id: string; workspace_id: string | null }>>
>;

const TREE_EXAMPLE = {
  email: {
    sendgrid: {
      'auto-sendgrid-1': { value: SECRET_MASK, owner_id: '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10', workspace_id: null },
    },
  },
};

export class PutSecretDto {
  @ApiProperty({ example: 'SG.example-key', description: 'Trimmed; `********` leaves the stored value unchanged.' })
  @IsString()
  value: string;
}

export class ShareSecretDto {
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The workspace to share the secret with (its workflows may then use it); null makes it personal.',
  })
  @ValidateIf((o: { workspace_id?: unknown }) => o.workspace_id !== null)
  @IsUUID(undefined, { message: 'workspace_id must be a UUID or null' })
  workspace_id: string | null;
}

export class SecretEntry {
  @ApiProperty({ example: SECRET_MASK, description: 'Always masked.' }) value: string;
  @ApiProperty({ format: 'uuid' }) owner_id: string;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Shared with this workspace; null: personal.',
  })
  workspace_id: string | null;
}

export class SecretRef {
  @ApiProperty({ example: 'email' }) group: string;
  @ApiProperty({ example: 'sendgrid' }) service: string;
  @ApiProperty({ example: 'auto-sendgrid-1' }) name: string;
}

/** group → service → name → entry. */
const openMap = (values: object) => ({ type: 'object', additionalProperties: values }) as const;

@ApiExtraModels(SecretEntry)
export class SecretsResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({
    ...openMap(openMap(openMap({ $ref: getSchemaPath(SecretEntry) }))),
    description: 'By group, service and name.',
    example: TREE_EXAMPLE,
  })
  secrets: SecretTree;
}

export class SecretWriteResponse extends SecretsResponse {
  @ApiProperty({ enum: ['created', 'updated', 'unchanged'] }) outcome: 'created' | 'updated' | 'unchanged';
}

@ApiExtraModels(SecretRef)
export class SecretOwnershipResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({
    ...openMap({ type: 'array', items: { $ref: getSchemaPath(SecretRef) } }),
    description: 'The secrets shared with the workspace, by owner id.',
    example: {
      '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10': [{ group: 'email', service: 'sendgrid', name: 'auto-sendgrid-1' }],
    },
  })
  ownership: Record<string, { group: string; service: string; name: string }[]>;
}
