import { ApiProperty } from '@nestjs/swagger';
import { OPEN_OBJECT } from '../common/http/openapi';
import type { NodeTypeEntry } from './node-catalogue';

export class NodeTypeDto implements NodeTypeEntry {
  @ApiProperty({
    example: 'http',
    description: 'The catalogue key: the executor of a trigger or logic node, or the action of an action node.',
  })
  kind: string;

  @ApiProperty({ enum: ['trigger', 'logic', 'action'], example: 'action' })
  category: NodeTypeEntry['category'];

  @ApiProperty({ example: 'HTTP request' })
  title: string;

  @ApiProperty({ example: 'Calls a URL with any method, headers, query parameters, body and basic or bearer auth.' })
  description: string;

  @ApiProperty({
    type: [String],
    example: ['action', 'actionHttp'],
    description:
      'The node `type` values that select it. Actions: `action` with `data.actionType`; an `action…` UI type names the action by prefix when `actionType` is missing.',
  })
  node_types: string[];

  @ApiProperty({
    type: [String],
    example: ['http'],
    description: 'Actions: the `data.actionType` values (any case) that select it; empty for other nodes.',
  })
  action_types: string[];

  @ApiProperty({
    enum: ['params', 'config', 'data'],
    example: 'params',
    description: 'Where the params go: `data.params`, `data.config`, or `data` itself beside `label`.',
  })
  params_field: NodeTypeEntry['params_field'];

  @ApiProperty({
    ...OPEN_OBJECT,
    example: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'], additionalProperties: true },
    description: 'A JSON Schema of the params, generated from the class the node validates them with.',
  })
  params_schema: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { status: 'The response status code.' },
    description: 'Each output field, with what it holds; later nodes read them as `{{Label.field}}`.',
  })
  outputs: Record<string, string>;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The plan rule that gates it, or null when every plan may use it.',
  })
  plan_gate: string | null;

  @ApiProperty({
    example: true,
    description: 'False for an integration this server has no provider for: it can be saved, and fails when it runs.',
  })
  available: boolean;
}

export class NodeTypeListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [NodeTypeDto] }) node_types: NodeTypeDto[];
}
