import { Body, Controller, Get, Header, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../common/http/http';
import { Authenticated, CurrentUser, Public } from '../common/auth/decorators';
import { SESSION_COOKIE } from '../common/auth/principal';
import type { AuthPrincipal } from '../common/auth/principal';
import { MessageResponse } from '../common/http/dto';
import { ApiErrors } from '../common/http/openapi';
import { AuthAttempt } from '../common/http/rate-limit';
import { AppConfig } from '../config/app-config';
import { Mailer } from '../mail/mailer';
import { AccountDeletionService } from './account-deletion.service';
import {
  ChangePasswordDto,
  DeletionConfirmDto,
  DeletionRequestDto,
  DeletionSummaryResponse,
  EnvelopeMessageResponse,
  PrivacyDto,
  PrivacyResponse,
} from './account.dto';
import { AccountService } from './account.service';

/** The signed-in person's account: privacy choice and deletion (the client's Settings tabs). */
@ApiTags('account')
@Authenticated()
@Controller('api/account')
export class AccountController {
  constructor(
    private readonly account: AccountService,
    private readonly deletion: AccountDeletionService,
    private readonly config: AppConfig,
  ) {}

  @Get('privacy')
  @ApiOkResponse({ type: PrivacyResponse })
  @ApiErrors(401)
  @ApiOperation({ summary: 'Get privacy settings' })
  privacy(@CurrentUser() user: AuthPrincipal): Promise<PrivacyResponse> {
    return this.account.privacy(user);
  }

  @Put('privacy')
  @ApiOkResponse({ type: PrivacyResponse })
  @ApiErrors(400, 401, 403, 415)
  @ApiOperation({ summary: 'Set privacy settings' })
  setPrivacy(@CurrentUser() user: AuthPrincipal, @Body() dto: PrivacyDto): Promise<PrivacyResponse> {
    return this.account.setPrivacy(user, dto.allow);
  }

  @Post('delete/request')
  @HttpCode(200)
  @AuthAttempt()
  @ApiOkResponse({ type: EnvelopeMessageResponse, description: 'The confirmation link was e-mailed.' })
  @ApiResponse({ status: 409, description: 'The caller owns a workspace with other members.' })
  @ApiResponse({ status: 503, description: 'The e-mail could not be sent (or mail is not set up).' })
  @ApiErrors(400, 401, 403, 415, 429)
  @ApiOperation({ summary: 'Request account deletion (e-mails a link)' })
  requestDeletion(
    @CurrentUser() user: AuthPrincipal,
    @Body() dto: DeletionRequestDto,
  ): Promise<EnvelopeMessageResponse> {
    return this.deletion.request(user, dto);
  }

  /** Only for the account the link was sent to, signed in; anyone else's session gets the 404 of an unknown link. */
  @Get('delete/summary/:token')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: DeletionSummaryResponse })
  @ApiResponse({ status: 409, description: 'The caller owns a workspace with other members.' })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'What deleting the account removes' })
  deletionSummary(@CurrentUser() user: AuthPrincipal, @Param('token') token: string): Promise<DeletionSummaryResponse> {
    return this.deletion.summary(user, token);
  }

  /** Deletes the account; the session cookie is cleared with it. */
  @Post('delete/confirm')
  @HttpCode(200)
  @AuthAttempt()
  @ApiOkResponse({ type: EnvelopeMessageResponse })
  @ApiResponse({ status: 409, description: 'The caller owns a workspace with other members, or changed meanwhile.' })
  @ApiErrors(400, 401, 403, 404, 415, 429)
  @ApiOperation({ summary: 'Delete the account' })
  async confirmDeletion(
    @CurrentUser() user: AuthPrincipal,
    @Body() dto: DeletionConfirmDto,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<EnvelopeMessageResponse> {
    const answer = await this.deletion.confirm(user, dto);
    res.clearCookie(SESSION_COOKIE, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: this.config.auth.cookieSecure,
    });
    return answer;
  }
}

const SOCIAL_LOGIN = {
  description: 'Redirects (303) to the web client: `/login?error=…` while no provider is configured.',
};

/** Auth routes of the account module: password change, and social login (no provider yet). */
@ApiTags('auth')
@Controller('api/auth')
export class AccountAuthController {
  constructor(
    private readonly account: AccountService,
    private readonly mailer: Mailer,
  ) {}

  @Post('change-password')
  @HttpCode(200)
  @Authenticated()
  @AuthAttempt()
  @ApiOkResponse({ type: MessageResponse, description: 'Other sessions of the account end; this one stays.' })
  @ApiErrors(400, 401, 403, 415, 429)
  @ApiOperation({ summary: 'Change the password' })
  changePassword(@CurrentUser() user: AuthPrincipal, @Body() dto: ChangePasswordDto): Promise<MessageResponse> {
    return this.account.changePassword(user, dto);
  }

  /** A page navigation (the Login and Signup buttons): always a redirect the page can show, never JSON. */
  @Public()
  @Get('google-login')
  @ApiResponse({ status: 303, ...SOCIAL_LOGIN })
  @ApiOperation({ summary: 'Google sign-in (not configured: redirects)' })
  googleLogin(@Res() res: HttpReply): void {
    this.notConfigured(res, 'Google');
  }

  @Public()
  @Get('github-login')
  @ApiResponse({ status: 303, ...SOCIAL_LOGIN })
  @ApiOperation({ summary: 'GitHub sign-in (not configured: redirects)' })
  githubLogin(@Res() res: HttpReply): void {
    this.notConfigured(res, 'GitHub');
  }

  private notConfigured(res: HttpReply, provider: string): void {
    const error = encodeURIComponent(`${provider} sign-in is not configured on this server.`);
    // The handler writes the response itself (a redirect), so headers are set here, not by decorators.
    void res.header('Cache-Control', 'no-store').redirect(this.mailer.link(`/login?error=${error}`), 303);
  }
}
