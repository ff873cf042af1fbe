import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDate,
  IsEmail,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { toRfc3339 } from '../common/clock';
import { ApiKeyEntity } from '../database/entities/api-key.entity';
import { UserEntity } from '../database/entities/user.entity';
import { MembershipResponse } from '../workspaces/workspaces.dto';

export class SignupDto {
  @ApiProperty({ example: 'Ada' }) @IsString() @IsNotEmpty() @MaxLength(100) first_name: string;
  @ApiProperty({ example: 'Lovelace' }) @IsString() @IsNotEmpty() @MaxLength(100) last_name: string;
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(320)
  email: string;

  @ApiProperty({ minLength: 8, example: 'correct horse battery staple' })
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters' })
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ example: 'Analytical Engines Ltd' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  company_name?: string;
  @ApiPropertyOptional({ type: Object, description: 'Initial user settings (ignored keys are dropped).' })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;
  @ApiProperty({ example: '2025-01' }) @IsString() @IsNotEmpty() @MaxLength(50) accepted_terms_version: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' }) @IsString() @IsNotEmpty() @MaxLength(320) email: string;
  @ApiProperty({ example: 'correct horse battery staple' }) @IsString() @IsNotEmpty() @MaxLength(1024) password: string;
  @ApiPropertyOptional({ description: 'Keep the session for 30 days instead of 7.' })
  @IsOptional()
  @IsBoolean()
  remember?: boolean;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'CI deploys' }) @IsString() @IsNotEmpty() @MaxLength(100) name: string;

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
}

export function toUserResponse(u: UserEntity): UserResponse {
  return {
    id: u.id,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    role: u.role,
    plan: u.plan,
    company_name: u.companyName,
    onboarded_at: toRfc3339(u.onboardedAt),
    created_at: toRfc3339(u.createdAt)!,
    is_verified: u.isVerified,
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

export class MessageResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty() message: string;
}

export class SessionResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: UserResponse }) user: UserResponse;
  @ApiProperty({ type: [MembershipResponse] }) memberships: MembershipResponse[];
}

export class LoginResponse extends SessionResponse {
  @ApiProperty({ example: false }) requires_onboarding: boolean;
}

export class ApiKeyCreatedResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: ApiKeyResponse }) api_key: ApiKeyResponse;
  @ApiProperty({ description: 'The key itself. Shown once; only its hash is stored.', example: 'rl_…' }) token: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: [ApiKeyResponse] }) api_keys: ApiKeyResponse[];
}
