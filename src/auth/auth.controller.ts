import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { HttpReply, HttpRequest } from '../common/http/http';
import { isUUID } from 'class-validator';
import { assertCsrf } from '../common/auth/csrf.guard';
import { Authenticated, CurrentUser, Public } from '../common/auth/decorators';
import { CSRF_COOKIE, SESSION_COOKIE } from '../common/auth/principal';
import type { AuthPrincipal } from '../common/auth/principal';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { ApiErrors } from '../common/http/openapi';
import { AuthAttempt } from '../common/http/rate-limit';
import { UuidPipe } from '../common/http/uuid.pipe';
import { AppConfig } from '../config/app-config';
import {
  ApiKeyCreatedResponse,
  ApiKeyListResponse,
  CreateApiKeyDto,
  LoginDto,
  LoginResponse,
  SessionResponse,
  SignupDto,
} from './auth.dto';
import { MessageResponse, SuccessResponse } from '../common/http/dto';
import { ApiKeysService } from './api-keys.service';
import { AuthService } from './auth.service';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly apiKeys: ApiKeysService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @AuthAttempt()
  @Post('signup')
  @ApiCreatedResponse({ type: MessageResponse })
  @ApiConflictResponse({ description: 'Email already registered (`email_taken`).' })
  @ApiErrors(400, 415, 429)
  @ApiOperation({ summary: 'Sign up' })
  signup(@Body() dto: SignupDto): Promise<MessageResponse> {
    return this.auth.signup(dto);
  }

  @Public()
  @AuthAttempt()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginResponse, description: 'Sets the `dsentr_session` cookie.' })
  @ApiUnauthorizedResponse({ description: '`Invalid email or password`' })
  @ApiErrors(400, 403, 415, 429)
  @ApiOperation({ summary: 'Log in (sets the session cookie)' })
  async login(@Body() dto: LoginDto, @Res({ passthrough: true }) res: HttpReply): Promise<LoginResponse> {
    const { token, expiresAt, body } = await this.auth.login(dto);
    res.setCookie(SESSION_COOKIE, token, { ...this.cookieOptions('lax'), expires: expiresAt });
    return body;
  }

  /**
   * Public: an expired session can still log out; the cookie is cleared either way. Ending a cookie
   * session takes the CSRF token like any other cookie write (another site must not log users out).
   */
  @Public()
  @Post('logout')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponse })
  @ApiErrors(403)
  @ApiOperation({ summary: 'Log out' })
  logout(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpReply): Promise<MessageResponse> {
    const cookie = req.cookies[SESSION_COOKIE];
    const bearer = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer && cookie) assertCsrf(req);
    const token = [bearer, cookie].find((t): t is string => typeof t === 'string' && isUUID(t));
    res.clearCookie(SESSION_COOKIE, this.cookieOptions('lax'));
    return this.auth.logout(token?.toLowerCase());
  }

  @Get('me')
  @Authenticated()
  @ApiOkResponse({ type: SessionResponse })
  @ApiErrors(401)
  @ApiOperation({ summary: 'The signed-in user and memberships' })
  me(@CurrentUser() user: AuthPrincipal): Promise<SessionResponse> {
    return this.auth.me(user);
  }

  /** docs/contract.md §1.2: the token as the raw text body, and the same value in the `csrf_token` cookie. */
  @Public()
  @Get('csrf-token')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string', example: 'q1w2e3…' }, description: 'Sets the `csrf_token` cookie.' })
  @ApiOperation({ summary: 'Get a CSRF token' })
  csrfToken(@Res({ passthrough: true }) res: HttpReply): string {
    const token = this.auth.newCsrfToken();
    res.setCookie(CSRF_COOKIE, token, this.cookieOptions('strict'));
    return token;
  }

  @Post('api-keys')
  @Authenticated()
  @ApiCreatedResponse({ type: ApiKeyCreatedResponse })
  @ApiErrors(400, 401, 403)
  @ApiOperation({ summary: 'Create an API key' })
  createApiKey(@CurrentUser() user: AuthPrincipal, @Body() dto: CreateApiKeyDto): Promise<ApiKeyCreatedResponse> {
    // A key that mints keys would outlive its own revocation through them: only a signed-in person creates keys.
    if (user.method === 'api_key')
      throw new AppError(ErrorCode.Forbidden, 'API keys cannot create API keys; sign in to create one');
    return this.apiKeys.create(user, dto);
  }

  @Get('api-keys')
  @Authenticated()
  @ApiOkResponse({ type: ApiKeyListResponse })
  @ApiErrors(401)
  @ApiOperation({ summary: 'List API keys' })
  listApiKeys(@CurrentUser() user: AuthPrincipal): Promise<ApiKeyListResponse> {
    return this.apiKeys.list(user);
  }

  @Delete('api-keys/:keyId')
  @Authenticated()
  @ApiOkResponse({ type: SuccessResponse })
  @ApiErrors(400, 401, 403, 404)
  @ApiOperation({ summary: 'Revoke an API key' })
  revokeApiKey(
    @CurrentUser() user: AuthPrincipal,
    @Param('keyId', UuidPipe) keyId: string,
  ): Promise<{ success: true }> {
    return this.apiKeys.revoke(user, keyId);
  }

  private cookieOptions(sameSite: 'lax' | 'strict'): CookieSerializeOptions {
    return { httpOnly: true, sameSite, path: '/', secure: this.config.auth.cookieSecure };
  }
}
