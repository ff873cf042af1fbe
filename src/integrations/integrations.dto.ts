import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { OPEN_OBJECT } from '../common/http/openapi';
import { OptionalBody } from '../common/http/validation.pipe';
import { OAUTH_PROVIDERS } from './oauth-providers';
import type { OAuthProvider } from './oauth-providers';

const PROVIDER_MESSAGE = `provider must be one of ${OAUTH_PROVIDERS.join(', ')}`;

export class ProviderParam {
  @ApiProperty({ enum: OAUTH_PROVIDERS })
  @IsIn(OAUTH_PROVIDERS, { message: PROVIDER_MESSAGE })
  provider: OAuthProvider;
}

export class ConnectionsQuery {
  @ApiProperty({ format: 'uuid', description: 'The workspace the client is working in.' })
  @IsUUID(undefined, { message: 'workspace must be a UUID' })
  workspace: string;
}

export class ConnectStartQuery {
  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    description: 'The workspace to connect for; its viewers and Solo-plan workspaces are refused.',
  })
  // Checked by the service, not here: a bad value is answered with a redirect, never JSON.
  @IsOptional()
  workspace?: unknown;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    description: 'Slack personal authorisation of a workspace connection.',
  })
  @IsOptional()
  workspaceConnectionId?: unknown;
}

export class ConnectionIdQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'The connection (or give it in the body).' })
  @IsOptional()
  @IsUUID(undefined, { message: 'connection_id must be a UUID' })
  connection_id?: string;
}

/** The body may be absent: the client names the connection in the query string. */
@OptionalBody()
export class RefreshConnectionDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Wins over the query parameter.' })
  @IsOptional()
  @IsUUID(undefined, { message: 'connection_id must be a UUID' })
  connection_id?: string;
}

export class PromoteConnectionDto {
  @ApiProperty({ enum: OAUTH_PROVIDERS })
  @IsIn(OAUTH_PROVIDERS, { message: PROVIDER_MESSAGE })
  provider: OAuthProvider;

  @ApiProperty({ format: 'uuid', description: "The caller's personal connection to share with the workspace." })
  @IsUUID(undefined, { message: 'user_oauth_token_id must be a UUID' })
  user_oauth_token_id: string;
}

const NO_CONNECTIONS = {
  type: 'array',
  items: OPEN_OBJECT,
  example: [],
  description: 'Always empty: this server has no OAuth provider configured.',
} as const;

export class ProviderConnections {
  @ApiProperty(NO_CONNECTIONS) google: never[];
  @ApiProperty(NO_CONNECTIONS) microsoft: never[];
  @ApiProperty(NO_CONNECTIONS) slack: never[];
  @ApiProperty(NO_CONNECTIONS) asana: never[];
  @ApiProperty(NO_CONNECTIONS) notion: never[];
}

export class SlackAuthStatus {
  @ApiProperty({ example: false }) has_personal_auth: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: null })
  personal_auth_connected_at: string | null;
}

export class ConnectionsResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: ProviderConnections, description: "The caller's own connections." })
  personal: ProviderConnections;
  @ApiProperty({ type: ProviderConnections, description: 'Connections shared with the workspace.' })
  workspace: ProviderConnections;
  @ApiProperty({ type: SlackAuthStatus }) slack: SlackAuthStatus;
}

export function noConnections(): ProviderConnections {
  return { google: [], microsoft: [], slack: [], asana: [], notion: [] };
}
