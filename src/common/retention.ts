import { Injectable, Logger } from '@nestjs/common';

/** One feature's pruning of its own tables: deletes, in short chunks, what it keeps no longer. */
export interface RetentionTask {
  /** Names the rows in the retention log line, e.g. the table. */
  name: string;
  /** Rows deleted. */
  prune(now: Date): Promise<number>;
}

/**
 * Retention as each feature defines it (docs/architecture.md, Retention): features register their
 * task when their module starts; the worker role runs them all every few minutes, one after
 * another, so no feature's pruning needs to know another's tables.
 */
@Injectable()
export class Retention {
  private readonly logger = new Logger(Retention.name);
  private readonly tasks = new Map<string, RetentionTask>();

  register(task: RetentionTask): void {
    if (this.tasks.has(task.name)) throw new Error(`Retention task "${task.name}" registered twice`);
    this.tasks.set(task.name, task);
  }

  /** Every task once; one that fails is logged and the others still run. */
  async pruneAll(now: Date): Promise<Record<string, number>> {
    const pruned: Record<string, number> = {};
    for (const task of this.tasks.values()) {
      try {
        pruned[task.name] = await task.prune(now);
      } catch (error) {
        this.logger.error(
          { task: task.name, err: { name: (error as Error).name, message: (error as Error).message } },
          'retention task failed',
        );
      }
    }
    if (Object.values(pruned).some((n) => n > 0)) this.logger.log({ pruned }, 'retention');
    return pruned;
  }
}
