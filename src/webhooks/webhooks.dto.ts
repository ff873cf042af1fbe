import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsInt, IsOptional } from 'class-validator';
import { RunResponse } from '../runs/runs.dto';

export class WebhookTriggerUrl {
  @ApiProperty({ example: 'Order created' }) label: string;
  @ApiProperty({ example: '/api/workflows/6f1c…/trigger/Xy…/Order%20created' }) url: string;
  @ApiProperty({
    example: 'https://runloom.example.com/api/workflows/6f1c…/trigger/Xy…/Order%20created',
    description: 'The same URL with the address senders reach the API at (API_PUBLIC_URL, else PUBLIC_URL).',
  })
  absolute_url: string;
}

export class WebhookUrlResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({
    example: '/api/workflows/6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10/trigger/Xy…',
    description: 'A path (no host).',
  })
  url: string;
  @ApiProperty({
    example: 'https://runloom.example.com/api/workflows/6f1c1b9e-3f7a-4d33-9c55-1b0e2f0a9a10/trigger/Xy…',
    description: 'The same URL with the address senders reach the API at (API_PUBLIC_URL, else PUBLIC_URL).',
  })
  absolute_url: string;
  @ApiProperty({ type: [WebhookTriggerUrl] }) triggers: WebhookTriggerUrl[];
}

export class WebhookRegeneratedResponse extends WebhookUrlResponse {
  @ApiProperty({ description: 'base64url signing key (HMAC key after base64url decoding).' }) signing_key: string;
}

export class WebhookConfigResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty() require_hmac: boolean;
  @ApiProperty({ example: 300 }) replay_window_sec: number;
  @ApiProperty() signing_key: string;
}

export class WebhookConfigDto {
  @ApiProperty()
  @IsDefined({ message: 'require_hmac is required' })
  @IsBoolean({ message: 'require_hmac must be a boolean' })
  require_hmac: boolean;

  @ApiPropertyOptional({
    description: 'Seconds; clamped to 60..3600. Omitted: the workflow keeps its current window (300 when new).',
    example: 300,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'replay_window_sec must be an integer' })
  replay_window_sec?: number;
}

export class WebhookRunResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: RunResponse }) run: RunResponse;
}
