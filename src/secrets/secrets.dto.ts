import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';

export const SECRET_MASK = '*****************';

/** `{group:{service:{name:{value:"*****************",owner_id}}}}` (reference §9.4). */
export type SecretTree = Record<string, Record<string, Record<string, { value: string; owner_id: string }>>>;

const TREE_EXAMPLE = {
  email: { sendgrid: { 'auto-sendgrid-1': { value: SECRET_MASK, owner_id: '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10' } } },
};

export class PutSecretDto {
  @ApiProperty({ example: 'SG.example-key', description: 'Trimmed; `********` leaves the stored value unchanged.' })
  @IsString()
  value: string;
}

export class SecretsResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: Object, example: TREE_EXAMPLE }) secrets: SecretTree;
}

export class SecretWriteResponse extends SecretsResponse {
  @ApiProperty({ enum: ['created', 'updated', 'unchanged'] }) outcome: 'created' | 'updated' | 'unchanged';
}

export class SecretOwnershipResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({
    type: Object,
    example: {
      '6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10': [{ group: 'email', service: 'sendgrid', name: 'auto-sendgrid-1' }],
    },
  })
  ownership: Record<string, { group: string; service: string; name: string }[]>;
}
