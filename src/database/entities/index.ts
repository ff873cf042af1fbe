import { ApiKeyEntity } from './api-key.entity';
import { SessionEntity } from './session.entity';
import { UserEntity } from './user.entity';
import { WorkspaceMemberEntity } from './workspace-member.entity';
import { WorkspaceEntity } from './workspace.entity';

/** Every entity, registered once for the data source, the migration tooling and tests. */
export const ENTITIES = [UserEntity, SessionEntity, ApiKeyEntity, WorkspaceEntity, WorkspaceMemberEntity];
