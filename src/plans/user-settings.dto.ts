import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsUUID } from 'class-validator';

export class PutUserSettingsDto {
  @ApiProperty({ format: 'uuid' })
  @IsDefined({ message: 'workspace_id is required' })
  @IsUUID(undefined, { message: 'workspace_id must be a UUID' })
  workspace_id: string;

  @ApiProperty()
  @IsDefined({ message: 'runaway_protection_enabled is required' })
  @IsBoolean({ message: 'runaway_protection_enabled must be a boolean' })
  runaway_protection_enabled: boolean;
}

export class WorkflowSettings {
  @ApiProperty({ example: true }) runaway_protection_enabled: boolean;
}

export class UserSettings {
  @ApiProperty({ type: WorkflowSettings }) workflows: WorkflowSettings;
}

export class UserSettingsResponse {
  @ApiProperty({ example: true }) success: true;
  @ApiProperty({ type: UserSettings, example: { workflows: { runaway_protection_enabled: true } } })
  settings: UserSettings;
}
