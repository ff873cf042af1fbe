import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MinLength } from 'class-validator';
import { MaxChars } from '../common/http/max-chars';

/** `POST /api/auth/resend-verification` and `POST /api/auth/forgot-password`: the address as typed. */
export class AccountEmailDto {
  @ApiProperty({ example: 'ada@example.com' }) @IsString() @IsNotEmpty() @MaxChars(320) email: string;
}

/** `POST /api/auth/verify`: the token of the `/verify-email?token=…` link. */
export class VerifyEmailDto {
  @ApiProperty({ example: 'Xq3…', description: '32 letters and digits.' })
  @IsString()
  @IsNotEmpty()
  @MaxChars(200)
  token: string;
}

/** `POST /api/auth/reset-password`: the token of the `/reset-password/<token>` link and the new password. */
export class ResetPasswordDto {
  @ApiProperty({ format: 'uuid' }) @IsString() @IsNotEmpty() @MaxChars(200) token: string;

  @ApiProperty({ minLength: 8, example: 'correct horse battery staple' })
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters' })
  @MaxChars(1024)
  password: string;
}
