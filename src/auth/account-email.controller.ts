import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth/decorators';
import { ApiErrors } from '../common/http/openapi';
import { AuthAttempt } from '../common/http/rate-limit';
import { AccountEmailDto, ResetPasswordDto, VerifyEmailDto } from './account-email.dto';
import { AccountEmailService } from './account-email.service';
import { MessageResponse } from '../common/http/dto';

/**
 * The pages e-mailed links open (verify-email, forgot-password, reset-password). Public, and each
 * attempt counts against the per-IP auth bucket. A bad, used or expired token in a body is 400
 * `invalid_token`; in the path (the reset page's check) it is 404.
 */
@ApiTags('auth')
@Controller('api/auth')
export class AccountEmailController {
  constructor(private readonly accountEmail: AccountEmailService) {}

  @Public()
  @AuthAttempt()
  @Post('resend-verification')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponse, description: 'The same answer whether the address has an account or not.' })
  @ApiErrors(400, 415, 429)
  @ApiOperation({ summary: 'Resend the verification e-mail' })
  resendVerification(@Body() dto: AccountEmailDto): Promise<MessageResponse> {
    return this.accountEmail.resendVerification(dto);
  }

  @Public()
  @AuthAttempt()
  @Post('verify')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponse, description: '`Email verified successfully` (no session is created).' })
  @ApiErrors(400, 415, 429)
  @ApiOperation({ summary: 'Verify an e-mail address' })
  verify(@Body() dto: VerifyEmailDto): Promise<MessageResponse> {
    return this.accountEmail.verify(dto);
  }

  @Public()
  @AuthAttempt()
  @Post('forgot-password')
  @HttpCode(200)
  @ApiOkResponse({ type: MessageResponse, description: 'The same answer whether the address has an account or not.' })
  @ApiErrors(400, 415, 429)
  @ApiOperation({ summary: 'Request a password reset e-mail' })
  forgotPassword(@Body() dto: AccountEmailDto): Promise<MessageResponse> {
    return this.accountEmail.forgotPassword(dto);
  }

  /** Public: the token is the credential (the reset page checks it before showing its form). */
  @Public()
  @AuthAttempt()
  @Get('verify-reset-token/:token')
  @ApiOkResponse({ type: MessageResponse, description: '`Token is valid.`' })
  @ApiErrors(404, 429)
  @ApiOperation({ summary: 'Check a password reset token' })
  verifyResetToken(@Param('token') token: string): Promise<MessageResponse> {
    return this.accountEmail.verifyResetToken(token);
  }

  @Public()
  @AuthAttempt()
  @Post('reset-password')
  @HttpCode(200)
  @ApiOkResponse({
    type: MessageResponse,
    description: '`Password has been reset.`; every session of the account ends.',
  })
  @ApiErrors(400, 415, 429)
  @ApiOperation({ summary: 'Reset the password' })
  resetPassword(@Body() dto: ResetPasswordDto): Promise<MessageResponse> {
    return this.accountEmail.resetPassword(dto);
  }
}
