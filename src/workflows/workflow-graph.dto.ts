import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiOpenSchema, JSON_VALUE, OPEN_OBJECT } from '../common/http/openapi';

/*
 * The workflow graph as OpenAPI schemas, for typed clients. Documentation only: the save-time check
 * is assertValidGraph (graph-validation.ts), and nodes keep whatever else the editor stores on them.
 */

export class WorkflowNodePosition {
  @ApiProperty({ example: 240 }) x: number;
  @ApiProperty({ example: 0 }) y: number;
}

export class WorkflowTriggerInput {
  @ApiProperty({ example: 'order' }) key: string;
  @ApiProperty({
    example: '{{Hook.order.id}}',
    description: 'Templated against the context, then read as JSON when it parses.',
  })
  value: string;
}

@ApiOpenSchema('What a node does: the fields the engine reads, plus anything else the editor keeps.')
export class WorkflowNodeData {
  @ApiPropertyOptional({
    example: 'Greet',
    description: "The node's outputs are stored in the context under this name (the node id when empty).",
  })
  label?: string;

  @ApiPropertyOptional({
    example: 'Manual',
    description: 'Trigger nodes: `Manual`, `Webhook` or `Schedule` (any case).',
  })
  triggerType?: string;

  @ApiPropertyOptional({
    type: [WorkflowTriggerInput],
    description: 'Trigger nodes: values added to the trigger payload.',
  })
  inputs?: WorkflowTriggerInput[];

  @ApiPropertyOptional({
    ...OPEN_OBJECT,
    description: 'Schedule triggers: `startDate`, `startTime`, `timezone`, `repeat`, or a cron expression.',
  })
  scheduleConfig?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'http',
    description: 'Action nodes: the action to run (`http`, `code`, `email`, `messaging`, …).',
  })
  actionType?: string;

  @ApiPropertyOptional({
    ...OPEN_OBJECT,
    example: { url: 'https://example.com', method: 'GET' },
    description: "Action nodes: the action's parameters; secrets as `group:service:name` references.",
  })
  params?: Record<string, unknown>;

  @ApiPropertyOptional({ ...OPEN_OBJECT, description: 'Logic nodes (delay, formatter): their settings.' })
  config?: Record<string, unknown>;

  // No `default`: generators read a default as "always present" and would make the field required.
  @ApiPropertyOptional({
    description: 'Action nodes: `false` lets the run go on past a failure of this node (default `true`).',
  })
  stopOnError?: boolean;

  @ApiPropertyOptional({ example: 30000, description: 'HTTP, e-mail and messaging actions: timeout in ms.' })
  timeout?: number;

  @ApiPropertyOptional({ example: 2, description: 'HTTP actions: extra attempts after a transport failure.' })
  retries?: number;
}

@ApiOpenSchema('A node (React Flow shape). Other keys the editor stores are kept as sent.')
export class WorkflowNode {
  @ApiProperty({ example: 'greet', description: 'Unique within the graph.' }) id: string;

  @ApiProperty({
    example: 'action',
    description:
      'Selects the executor: `trigger`, `condition`, `delay`, `formatter`, or an action node whose action is `data.actionType`.',
  })
  type: string;

  @ApiPropertyOptional({ type: WorkflowNodePosition }) position?: WorkflowNodePosition;

  @ApiPropertyOptional({ type: WorkflowNodeData }) data?: WorkflowNodeData;
}

@ApiOpenSchema('An edge between two nodes of the graph. Other keys the editor stores are kept as sent.')
export class WorkflowEdge {
  @ApiPropertyOptional({ example: 'e1' }) id?: string;
  @ApiProperty({ example: 'start', description: 'A node id.' }) source: string;
  @ApiProperty({ example: 'greet', description: 'A node id.' }) target: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: null,
    description: 'From a condition: `cond-true` or `cond-false`, the branch this edge follows.',
  })
  sourceHandle?: string | null;
}

@ApiOpenSchema('The workflow graph: node ids unique, edges between existing nodes, every node a type this server runs.')
export class WorkflowGraph {
  @ApiProperty({ type: [WorkflowNode] }) nodes: WorkflowNode[];
  @ApiProperty({ type: [WorkflowEdge] }) edges: WorkflowEdge[];
}

@ApiOpenSchema('The graph a run executes, with control keys (`_…`) the run adds; other control keys are bookkeeping.')
export class RunSnapshot extends WorkflowGraph {
  @ApiPropertyOptional({ ...JSON_VALUE, nullable: true, description: 'The trigger payload.' })
  _trigger_context?: unknown;

  @ApiPropertyOptional({ description: 'The trigger node the run starts from.' })
  _start_from_node?: string;

  @ApiPropertyOptional({ type: [String], description: 'The egress allowlist in force for the run.' })
  _egress_allowlist?: string[];
}
