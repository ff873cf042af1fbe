import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../common/auth/decorators';
import type { AuthPrincipal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/openapi';
import { CompleteOnboardingDto, OnboardingCompletedResponse, OnboardingContextResponse } from './onboarding.dto';
import { OnboardingService } from './onboarding.service';

/**
 * Static paths under /api/workspaces: this controller is registered before the `:id` routes of
 * WorkspacesModule so `onboarding` and `billing` are never read as workspace ids.
 */
@ApiTags('workspaces')
@Authenticated()
@Controller('api/workspaces')
export class OnboardingController {
  constructor(private readonly onboarding: OnboardingService) {}

  @Get('onboarding')
  @ApiOkResponse({ type: OnboardingContextResponse })
  @ApiErrors(401)
  @ApiOperation({ summary: 'Onboarding context' })
  context(@CurrentUser() user: AuthPrincipal): Promise<OnboardingContextResponse> {
    return this.onboarding.context(user);
  }

  @Post('onboarding')
  @HttpCode(200)
  @ApiOkResponse({ type: OnboardingCompletedResponse })
  @ApiErrors(400, 401, 403, 404, 409, 415, 422)
  @ApiOperation({ summary: 'Complete onboarding' })
  complete(
    @CurrentUser() user: AuthPrincipal,
    @Body() dto: CompleteOnboardingDto,
  ): Promise<OnboardingCompletedResponse> {
    return this.onboarding.complete(user, dto);
  }

  /** The Plan tab's "Resume" (shown only for a subscription set to cancel): there is no subscription here. */
  @Post('billing/subscription/resume')
  @HttpCode(200)
  @ApiErrors(401, 403, 404)
  @ApiOperation({ summary: 'Resume a subscription (no billing: 404)' })
  resume(): Promise<never> {
    return this.onboarding.resumeSubscription();
  }
}
