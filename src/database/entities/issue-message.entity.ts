import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns';
import { IssueEntity } from './issue.entity';

export const ISSUE_SENDERS = ['user', 'admin'] as const;
export type IssueSender = (typeof ISSUE_SENDERS)[number];

/**
 * One message of a support thread. The report's description is the first one. `position` orders
 * the thread (1, 2, …): timestamps alone can tie within a millisecond.
 */
@Entity('issue_messages')
@Index('issue_messages_issue_position_key', ['issueId', 'position'], { unique: true })
export class IssueMessageEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'issue_id' })
  issueId: string;

  @ManyToOne(() => IssueEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'issue_id' })
  issue?: IssueEntity;

  @Column('integer')
  position: number;

  /** The user or operator who wrote it. Not a foreign key: the thread outlives an operator's account. */
  @Column('uuid', { name: 'sender_id', nullable: true })
  senderId: string | null;

  @Column('simple-enum', { name: 'sender_type', enum: ISSUE_SENDERS })
  senderType: IssueSender;

  @Column('text')
  body: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  /** When the user saw an operator's message (their own are read when written). */
  @TimestampColumn({ name: 'read_by_user_at', nullable: true })
  readByUserAt: Date | null;

  /** When an operator saw the user's message (an operator's own are read when written). */
  @TimestampColumn({ name: 'read_by_admin_at', nullable: true })
  readByAdminAt: Date | null;
}
