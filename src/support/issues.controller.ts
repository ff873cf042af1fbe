import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppAdmin } from '../common/auth/app-admin.guard';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  AdminIssueDetailResponse,
  AdminIssueListResponse,
  AdminIssuesQuery,
  CreateIssueDto,
  IssueDetailResponse,
  IssueListResponse,
  IssueReadResponse,
  IssueReplyDto,
  IssueSubmittedResponse,
} from './issues.dto';
import { IssuesService } from './issues.service';

/** The user's support threads (the client's "Report issue" dialog and Message Center). */
@ApiTags('support')
@Authenticated()
@Controller('api/issues')
export class IssuesController {
  constructor(private readonly issues: IssuesService) {}

  @Get()
  @ApiOkResponse({ type: IssueListResponse })
  @ApiErrors(401)
  @ApiOperation({ summary: 'List my support issues' })
  list(@CurrentUser() user: AuthPrincipal): Promise<IssueListResponse> {
    return this.issues.list(user);
  }

  @Post()
  @HttpCode(200)
  @ApiOkResponse({ type: IssueSubmittedResponse })
  @ApiErrors(400, 401, 403, 404, 415, 422)
  @ApiOperation({ summary: 'Report an issue' })
  create(@CurrentUser() user: AuthPrincipal, @Body() dto: CreateIssueDto): Promise<IssueSubmittedResponse> {
    return this.issues.create(user, dto);
  }

  @Get(':id')
  @ApiOkResponse({ type: IssueDetailResponse })
  @ApiErrors(400, 401, 404)
  @ApiOperation({ summary: 'Get a support issue' })
  detail(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<IssueDetailResponse> {
    return this.issues.detail(user, id);
  }

  /** Takes no body: the client sends `Content-Type: application/json` with nothing after it. */
  @Post(':id/read')
  @HttpCode(200)
  @ApiOkResponse({ type: IssueReadResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Mark a support issue read' })
  read(@CurrentUser() user: AuthPrincipal, @Param('id', UuidPipe) id: string): Promise<IssueReadResponse> {
    return this.issues.markRead(user, id);
  }

  @Post(':id/reply')
  @HttpCode(200)
  @ApiOkResponse({ type: IssueDetailResponse })
  @ApiErrors(400, 401, 403, 404, 415, 422)
  @ApiOperation({ summary: 'Reply to a support issue' })
  reply(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: IssueReplyDto,
  ): Promise<IssueDetailResponse> {
    return this.issues.reply(user, id, dto.message);
  }
}

/** The operators' side of the support threads (application admins; `npm run cli -- issues …`). */
@ApiTags('admin')
@AppAdmin()
@Controller('api/admin/issues')
export class AdminIssuesController {
  constructor(private readonly issues: IssuesService) {}

  @Get()
  @ApiOkResponse({ type: AdminIssueListResponse })
  @ApiErrors(400, 401, 403)
  @ApiOperation({ summary: 'List support issues (admin)' })
  list(@Query() query: AdminIssuesQuery): Promise<AdminIssueListResponse> {
    return this.issues.listAll(query.status);
  }

  @Get(':id')
  @ApiOkResponse({ type: AdminIssueDetailResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Get a support issue (admin)' })
  detail(@Param('id', UuidPipe) id: string): Promise<AdminIssueDetailResponse> {
    return this.issues.adminDetail(id);
  }

  @Post(':id/reply')
  @HttpCode(200)
  @ApiOkResponse({ type: AdminIssueDetailResponse })
  @ApiErrors(400, 401, 403, 404, 415, 422)
  @ApiOperation({ summary: 'Reply to a support issue (admin)' })
  reply(
    @CurrentUser() user: AuthPrincipal,
    @Param('id', UuidPipe) id: string,
    @Body() dto: IssueReplyDto,
  ): Promise<AdminIssueDetailResponse> {
    return this.issues.adminReply(user, id, dto.message);
  }
}
