import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsNotEmpty, IsOptional, IsString, MinLength } from 'class-validator';
import { MaxChars } from '../common/http/max-chars';

export class ChangePasswordDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxChars(1024) current_password: string;

  /** The signup rule. */
  @ApiProperty({ minLength: 8 })
  @IsString()
  @MinLength(8, { message: 'new_password must be at least 8 characters' })
  @MaxChars(1024)
  new_password: string;
}

export class PrivacyDto {
  @ApiProperty({ description: 'Whether workflows may be used to improve the product.' })
  @IsDefined({ message: 'allow is required' })
  @IsBoolean({ message: 'allow must be a boolean' })
  allow: boolean;
}

export class PrivacyResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ example: true }) allow: boolean;
}

/** Fields are checked by the service, in order, with the messages the client shows. */
export class DeletionRequestDto {
  @ApiProperty({ example: 'ada@example.com', description: "The account's own e-mail address." })
  @IsOptional()
  @IsString()
  @MaxChars(320)
  email?: string;

  @ApiPropertyOptional({ description: 'The current password (every Runloom account has one).' })
  @IsOptional()
  @IsString()
  @MaxChars(1024)
  password?: string;
}

export class DeletionConfirmDto extends DeletionRequestDto {
  @ApiProperty({ format: 'uuid', description: 'The token of the e-mailed link (`/delete-account/<token>`).' })
  @IsOptional()
  @IsString()
  @MaxChars(200)
  token?: string;
}

export class DeletionCounts {
  @ApiProperty({ description: 'Your personal workflows and those of the workspaces you own.' }) workflows: number;
  @ApiProperty({ description: 'Workspaces you own (each has no other member).' }) owned_workspaces: number;
  @ApiProperty({ description: 'Workspaces of others you are a member of.' }) member_workspaces: number;
  @ApiProperty({ description: 'Runs of the workflows removed.' }) workflow_runs: number;
  @ApiProperty({ description: 'History entries of the workflows removed.' }) workflow_logs: number;
  @ApiProperty({ description: 'Always 0: Runloom keeps no OAuth connections.' }) oauth_connections: number;
  @ApiProperty({ description: 'Pending invitations you sent (withdrawn).' }) pending_invitations: number;
  @ApiProperty({ description: 'Secrets in your store, shared ones included.' }) secrets: number;
}

export class DeletionStripe {
  @ApiProperty({ example: false }) has_customer: boolean;
  @ApiProperty({ example: false }) has_active_subscription: boolean;
}

export class DeletionSummaryResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty() email: string;
  @ApiProperty({ format: 'date-time' }) requested_at: string;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ example: true }) requires_password: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'email' }) oauth_provider: string | null;
  @ApiProperty({ type: DeletionCounts }) counts: DeletionCounts;
  @ApiProperty({ type: DeletionStripe, description: 'No payment provider: both false.' }) stripe: DeletionStripe;
  @ApiProperty({ type: [String] }) additional_data: string[];
  @ApiProperty({ type: [String] }) system_impacts: string[];
  @ApiProperty() compliance_notice: string;
}

/** The full DSentr success envelope (the client reads `success` and `message`). */
export class EnvelopeMessageResponse {
  @ApiProperty({ example: 'success' }) status: 'success';
  @ApiProperty({ example: true }) success: true;
  @ApiProperty() message: string;
  @ApiProperty({ type: String, nullable: true, example: null }) code: null;
}
