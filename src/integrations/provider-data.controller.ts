import { applyDecorators, Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../common/auth/decorators';
import { ApiErrors, ErrorEnvelopeDto } from '../common/http/openapi';
import { IntegrationsService } from './integrations.service';

const CONNECTION = ['scope', 'connection_id'];
const NOTION_CONNECTION = ['connectionScope', 'connectionId'];

/**
 * A node panel's lookup through a connection: documents the path and the query the client sends,
 * and the one answer this server gives (no provider, so no connection to look through).
 */
function Lookup(path: string, query: string[], reads: string) {
  const params = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
  return applyDecorators(
    Get(path),
    ...params.map((name) => ApiParam({ name, type: String })),
    ...query.map((name) => ApiQuery({ name, required: false, type: String })),
    ApiResponse({
      status: 404,
      description: `\`integration_not_configured\`: this server has no OAuth provider for it. With one, the client reads ${reads}.`,
      type: ErrorEnvelopeDto,
    }),
    ApiErrors(401),
  );
}

/**
 * The provider lookups of the node panels (Google Sheets, Teams, Slack, Asana, Notion). They are
 * reached only with a connection, which nobody can have here; each answers the JSON envelope
 * whose message the panel shows.
 */
@ApiTags('integrations')
@Authenticated()
@Controller('api')
export class ProviderDataController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Lookup('google/spreadsheets/files', CONNECTION, '`files[].{id,title}`')
  @ApiOperation({ summary: 'Google Sheets: list spreadsheets' })
  googleFiles(): Promise<never> {
    return this.integrations.providerData('google');
  }

  @Lookup('google/spreadsheets/:spreadsheetId/sheets', CONNECTION, '`sheets[].{id,title}`')
  @ApiOperation({ summary: 'Google Sheets: list sheets' })
  googleSheets(): Promise<never> {
    return this.integrations.providerData('google');
  }

  @Lookup('google/token', CONNECTION, '`access_token`')
  @ApiOperation({ summary: 'Google: access token for the picker' })
  googleToken(): Promise<never> {
    return this.integrations.providerData('google');
  }

  @Lookup('microsoft/teams', CONNECTION, '`teams[]`')
  @ApiOperation({ summary: 'Microsoft Teams: list teams' })
  microsoftTeams(): Promise<never> {
    return this.integrations.providerData('microsoft');
  }

  @Lookup('microsoft/teams/:team/channels', CONNECTION, '`channels[]`')
  @ApiOperation({ summary: 'Microsoft Teams: list channels' })
  microsoftChannels(): Promise<never> {
    return this.integrations.providerData('microsoft');
  }

  @Lookup('microsoft/teams/:team/channels/:channel/members', CONNECTION, '`members[]`')
  @ApiOperation({ summary: 'Microsoft Teams: list channel members' })
  microsoftMembers(): Promise<never> {
    return this.integrations.providerData('microsoft');
  }

  @Lookup('slack/channels', ['workspace_connection_id'], '`channels[].{id,name,isPrivate}`')
  @ApiOperation({ summary: 'Slack: list channels' })
  slackChannels(): Promise<never> {
    return this.integrations.providerData('slack');
  }

  @Lookup('asana/workspaces', CONNECTION, '`workspaces[]`')
  @ApiOperation({ summary: 'Asana: list workspaces' })
  asanaWorkspaces(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/workspaces/:gid/projects', CONNECTION, '`projects[]`')
  @ApiOperation({ summary: 'Asana: list projects' })
  asanaProjects(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/workspaces/:gid/tags', CONNECTION, '`tags[]`')
  @ApiOperation({ summary: 'Asana: list tags' })
  asanaTags(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/workspaces/:gid/users', CONNECTION, '`users[]`')
  @ApiOperation({ summary: 'Asana: list users' })
  asanaUsers(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/workspaces/:gid/teams', CONNECTION, '`teams[]`')
  @ApiOperation({ summary: 'Asana: list teams' })
  asanaTeams(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/workspaces/:gid/tasks', [...CONNECTION, 'project_gid'], '`tasks[]`')
  @ApiOperation({ summary: 'Asana: list tasks' })
  asanaTasks(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/projects/:gid/sections', CONNECTION, '`sections[]`')
  @ApiOperation({ summary: 'Asana: list sections' })
  asanaSections(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/tasks/:gid', CONNECTION, '`task`')
  @ApiOperation({ summary: 'Asana: get a task' })
  asanaTask(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup('asana/tasks/:gid/stories', CONNECTION, '`stories[]`')
  @ApiOperation({ summary: "Asana: list a task's stories" })
  asanaStories(): Promise<never> {
    return this.integrations.providerData('asana');
  }

  @Lookup(
    'integrations/notion/databases',
    [...NOTION_CONNECTION, 'search', 'cursor', 'pageSize'],
    '`databases[].{id,name,url}`, `next_cursor`, `has_more`',
  )
  @ApiOperation({ summary: 'Notion: list databases' })
  notionDatabases(): Promise<never> {
    return this.integrations.providerData('notion');
  }

  @Lookup(
    'integrations/notion/databases/:id/schema',
    NOTION_CONNECTION,
    '`database_id`, `title_property_id`, `properties[]`',
  )
  @ApiOperation({ summary: "Notion: a database's schema" })
  notionSchema(): Promise<never> {
    return this.integrations.providerData('notion');
  }
}
