import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PlanLimits, shownPlan } from '../plans/plan-tier';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDate,
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MinLength,
} from 'class-validator';
import { MaxChars } from '../common/http/max-chars';
import { toRfc3339 } from '../common/clock';
import { OPEN_OBJECT } from '../common/http/openapi';
import { ApiKeyEntity } from '../database/entities/api-key.entity';
import { UserEntity } from '../database/entities/user.entity';
import { MembershipResponse } from '../workspaces/workspaces.dto';

export class SignupDto {
  @ApiProperty({ example: 'Ada' }) @IsString() @IsNotEmpty() @MaxChars(100) first_name: string;
  @ApiProperty({ example: 'Lovelace' }) @IsString() @IsNotEmpty() @MaxChars(100) last_name: string;
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxChars(320)
  email: string;

  @ApiProperty({ minLength: 8, example: 'correct horse battery staple' })
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters' })
  @MaxChars(1024)
  password: string;

  @ApiPropertyOptional({ example: 'Analytical Engines Ltd' })
  @IsOptional()
  @IsString()
  @MaxChars(200)
  company_name?: string;
  @ApiPropertyOptional({ ...OPEN_OBJECT, description: 'Initial user settings (ignored keys are dropped).' })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;
  @ApiProperty({ example: '2025-01' }) @IsString() @IsNotEmpty() @MaxChars(50) accepted_terms_version: string;

  @ApiPropertyOptional({ example: 'GB', description: 'Billing country; the client sends "" when not filled.' })
  @IsOptional()
  @IsString()
  @MaxChars(100)
  country?: string;

  @ApiPropertyOptional({ example: 'GB123456789', description: 'Tax id; the client sends "" when not filled.' })
  @IsOptional()
  @IsString()
  @MaxChars(100)
  tax_id?: string;

  @ApiPropertyOptional({
    description:
      'Token of the invitation link (`/signup?invite=…`) that brought the person here; its e-mail must be this one.',
  })
  @IsOptional()
  @IsString()
  @MaxChars(200)
  invite_token?: string;

  @ApiPropertyOptional({
    enum: ['join', 'decline'],
    description:
      '`join` (the default with an invitation): no personal workspace, membership of the invited one. `decline`: a personal workspace, and the invitation is declined.',
  })
  @IsOptional()
  @IsIn(['join', 'accept', 'decline'], { message: 'invite_decision must be join or decline' })
  invite_decision?: 'join' | 'accept' | 'decline';
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' }) @IsString() @IsNotEmpty() @MaxChars(320) email: string;
  @ApiProperty({ example: 'correct horse battery staple' }) @IsString() @IsNotEmpty() @MaxChars(1024) password: string;
  @ApiPropertyOptional({ description: 'Keep the session for 30 days instead of 7.' })
  @IsOptional()
  @IsBoolean()
  remember?: boolean;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'CI deploys' }) @IsString() @IsNotEmpty() @MaxChars(100) name: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Optional expiry; must be in the future.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'expires_at must be an RFC 3339 timestamp' })
  expires_at?: Date;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty() first_name: string;
  @ApiProperty() last_name: string;
  @ApiProperty({ enum: ['user', 'admin'] }) role: string;
  @ApiProperty({ example: 'solo' }) plan: string;
  @ApiProperty({ nullable: true, type: String }) company_name: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) onboarded_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty() is_verified: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'email',
    description:
      'How the account signs in: `email` (a password; every account here). The client disables its password form for `google` or `github`.',
  })
  oauth_provider: string | null;
}

export function toUserResponse(u: UserEntity, limits: PlanLimits): UserResponse {
  return {
    id: u.id,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    role: u.role,
    plan: shownPlan(u.plan, limits),
    company_name: u.companyName,
    onboarded_at: toRfc3339(u.onboardedAt),
    created_at: toRfc3339(u.createdAt)!,
    is_verified: u.isVerified,
    oauth_provider: 'email',
  };
}

export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ example: 'rl_AbCd1234', description: 'The first characters of the key.' }) prefix: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_used_at: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expires_at: string | null;
}

export function toApiKeyResponse(k: ApiKeyEntity): ApiKeyResponse {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    created_at: toRfc3339(k.createdAt)!,
    last_used_at: toRfc3339(k.lastUsedAt),
    expires_at: toRfc3339(k.expiresAt),
  };
}

export class SessionResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: UserResponse }) user: UserResponse;
  @ApiProperty({ type: [MembershipResponse] }) memberships: MembershipResponse[];
  @ApiProperty({ example: false, description: 'The client sends the user to its onboarding page while true.' })
  requires_onboarding: boolean;
}

/** Login answers what `GET /api/auth/me` answers (and sets the session cookie). */
export class LoginResponse extends SessionResponse {}

export class ApiKeyCreatedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: ApiKeyResponse }) api_key: ApiKeyResponse;
  @ApiProperty({ description: 'The key itself. Shown once; only its hash is stored.', example: 'rl_…' }) token: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [ApiKeyResponse] }) api_keys: ApiKeyResponse[];
}
