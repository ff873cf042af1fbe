import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../common/auth/decorators';
import { AppConfig } from '../config/app-config';
import { ApiErrors } from '../common/http/openapi';
import { catalogueEntry, type NodeTypeEntry } from './node-catalogue';
import { NodeRegistry } from './node-registry';
import { NodeTypeListResponse } from './node-types.dto';

/** The node-type catalogue: what a workflow graph may hold and how to write each node. */
@ApiTags('node-types')
@Authenticated()
@Controller('api/node-types')
export class NodeTypesController {
  private entries: NodeTypeEntry[] | null = null;

  constructor(
    private readonly registry: NodeRegistry,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The node types a workflow graph may hold: params schema, outputs and plan gate of each.',
  })
  @ApiOkResponse({
    type: NodeTypeListResponse,
    description: 'Every registered node type, in registry order (docs/nodes.md is written from the same catalogue).',
  })
  @ApiErrors(401)
  list(): NodeTypeListResponse {
    // Fixed for the life of the process: built on first use. Without plan limits nothing is gated.
    const limitsOff = this.config.plans.limits === 'off';
    this.entries ??= this.registry
      .catalogue()
      .map(catalogueEntry)
      .map((entry) => (limitsOff ? { ...entry, plan_gate: null } : entry));
    return { success: true, node_types: this.entries };
  }
}
