import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength, MinLength } from 'class-validator';

/** `POST /api/auth/resend-verification` and `POST /api/auth/forgot-password`: the address as typed. */
export class AccountEmailDto {
  @ApiProperty({ example: 'ada@example.com' }) @IsString() @IsNotEmpty() @MaxLength(320) email: string;
}

/** `POST /api/auth/verify`: the token of the `/verify-email?token=…` link. */
export class VerifyEmailDto {
  @ApiProperty({ example: 'Xq3…', description: '32 letters and digits.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token: string;
}

/** `POST /api/auth/reset-password`: the token of the `/reset-password/<token>` link and the new password. */
export class ResetPasswordDto {
  @ApiProperty({ format: 'uuid' }) @IsString() @IsNotEmpty() @MaxLength(200) token: string;

  @ApiProperty({ minLength: 8, example: 'correct horse battery staple' })
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters' })
  @MaxLength(1024)
  password: string;
}
