import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Db } from '../db.service';
import { NodeRunEntity, NodeRunStatus } from '../entities/node-run.entity';
import { sql, Sql, SqlRunner } from '../sql';

const NODE_RUN_COLUMNS: (keyof NodeRunEntity & string)[] = [
  'id',
  'runId',
  'nodeId',
  'name',
  'nodeType',
  'inputs',
  'outputs',
  'status',
  'sequence',
  'error',
  'startedAt',
  'finishedAt',
  'createdAt',
  'updatedAt',
];

/** PostgreSQL's type of each column, for the array form of the upsert (`unnest`). JSON goes as text. */
const NODE_RUN_ARRAY_TYPES: Record<Exclude<keyof NodeRunEntity & string, 'run'>, string> = {
  id: 'uuid',
  runId: 'uuid',
  nodeId: 'varchar',
  name: 'varchar',
  nodeType: 'varchar',
  inputs: 'text',
  outputs: 'text',
  status: 'varchar',
  sequence: 'int',
  error: 'text',
  startedAt: 'timestamptz',
  finishedAt: 'timestamptz',
  createdAt: 'timestamptz',
  updatedAt: 'timestamptz',
};
const JSON_COLUMNS = new Set<string>(['inputs', 'outputs']);

/** A retried node keeps its row, id, first started_at and place. */
const ON_CONFLICT_KEEP_FIRST_START = `ON CONFLICT (run_id, node_id) DO UPDATE SET name = excluded.name,
  node_type = excluded.node_type, inputs = excluded.inputs, outputs = excluded.outputs, status = excluded.status,
  error = excluded.error, finished_at = excluded.finished_at, updated_at = excluded.updated_at`;

/**
 * Most bound parameters one statement may carry: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32,766) and
 * PostgreSQL's protocol limit (65,535). Node-run writes beyond that go in chunks.
 */
const MAX_PARAMETERS = { sqlite: 32_766, postgres: 65_535 } as const;

/** A run's node runs in execution order, only if the run is the workflow's (the scope a caller was checked for). */
const NODE_RUNS_OF_RUN =
  'run_id = ? AND run_id IN (SELECT id FROM workflow_runs WHERE id = ? AND workflow_id = ?) ORDER BY sequence, started_at, created_at';
const FINISH_NODE = sql(
  `UPDATE workflow_node_runs SET status = ?, outputs = ?, error = ?, finished_at = ?, updated_at = ?
   WHERE run_id = ? AND node_id = ?`,
);

/** What identifies a node run and is known before the node executes. */
export interface NodeRunStart {
  nodeId: string;
  name: string;
  nodeType: string;
  inputs: unknown;
  sequence?: number;
}

/** A node run to write: its node, state and times. */
export interface NodeRunRecord extends Pick<
  NodeRunEntity,
  'status' | 'outputs' | 'error' | 'startedAt' | 'finishedAt'
> {
  node: NodeRunStart;
}

/**
 * Node-run upserts: for NodeRunRepository, and for the queue's terminal write, which carries a
 * run's last node runs in the same statement or transaction.
 */
export class NodeRunUpserts {
  private readonly statements = new Map<number, Sql>();

  constructor(private readonly db: Db) {}

  /**
   * Records in statements below the database's parameter limit, `reserved` parameters left for a
   * statement they are sent with (PostgreSQL's terminal write).
   */
  chunks(records: NodeRunRecord[], reserved: number): NodeRunRecord[][] {
    const rows = Math.floor((MAX_PARAMETERS[this.db.dialect] - reserved) / NODE_RUN_COLUMNS.length);
    const chunks: NodeRunRecord[][] = [];
    for (let i = 0; i < records.length; i += rows) chunks.push(records.slice(i, i + rows));
    return chunks;
  }

  /** One upsert on (run_id, node_id) per row: a retried node keeps its row, id, first started_at and place. */
  statement(rows: number): Sql {
    let statement = this.statements.get(rows);
    if (!statement) {
      statement = this.db.codec(NodeRunEntity).insertSql(NODE_RUN_COLUMNS, ON_CONFLICT_KEEP_FIRST_START, rows);
      this.statements.set(rows, statement);
    }
    return statement;
  }

  values(runId: string, records: NodeRunRecord[], now: Date): unknown[] {
    const codec = this.db.codec(NodeRunEntity);
    return records.flatMap(({ node, ...state }) =>
      codec.values(
        { sequence: 0, ...node, ...state, id: randomUUID(), runId, createdAt: now, updatedAt: state.finishedAt ?? now },
        NODE_RUN_COLUMNS,
      ),
    );
  }

  /**
   * PostgreSQL: the same upsert for any number of node runs of any runs, from one array parameter
   * per column (`arrayValues`): one prepared statement whatever the count.
   */
  arraySql(): string {
    const codec = this.db.codec(NodeRunEntity);
    const names = NODE_RUN_COLUMNS.map((p) => codec.columnName(p));
    const arrays = NODE_RUN_COLUMNS.map(
      (p) => `?::${NODE_RUN_ARRAY_TYPES[p as keyof typeof NODE_RUN_ARRAY_TYPES]}[]`,
    ).join(', ');
    const select = NODE_RUN_COLUMNS.map((p, i) => (JSON_COLUMNS.has(p) ? `n.${names[i]}::jsonb` : `n.${names[i]}`));
    return `INSERT INTO ${codec.table} (${names.join(', ')}) SELECT ${select.join(', ')}
      FROM unnest(${arrays}) AS n(${names.join(', ')}) ${ON_CONFLICT_KEEP_FIRST_START}`;
  }

  /** `arraySql`'s parameters: each column's values over every run's `values` (row by row, as `values` gives them). */
  arrayValues(runs: unknown[][]): unknown[][] {
    const columns: unknown[][] = NODE_RUN_COLUMNS.map(() => []);
    for (const values of runs) values.forEach((value, i) => columns[i % NODE_RUN_COLUMNS.length].push(value));
    return columns;
  }

  async write(tx: SqlRunner, runId: string, chunks: NodeRunRecord[][], now: Date): Promise<void> {
    for (const chunk of chunks) await tx.query(this.statement(chunk.length), this.values(runId, chunk, now));
  }
}

/** Node runs: a run's per-node journal (docs/contract.md §5.2), written by the worker that holds the run. */
@Injectable()
export class NodeRunRepository {
  private readonly upserts: NodeRunUpserts;

  constructor(private readonly db: Db) {
    this.upserts = new NodeRunUpserts(db);
  }

  /** The run's node runs in execution order; none unless the run belongs to `workflowId`. */
  nodeRuns(workflowId: string, runId: string): Promise<NodeRunEntity[]> {
    return this.db.select(NodeRunEntity, NODE_RUNS_OF_RUN, [runId, runId, workflowId]);
  }

  /**
   * Upserts the node run as `running`, keeping its first `started_at` and place (docs/contract.md
   * §5.2). Worker-internal: by run id, for the run it holds.
   */
  async startNode(runId: string, node: NodeRunStart, now: Date): Promise<void> {
    const record: NodeRunRecord = {
      node,
      status: 'running',
      outputs: null,
      error: null,
      startedAt: now,
      finishedAt: null,
    };
    await this.db.exec(this.upserts.statement(1), this.upserts.values(runId, [record], now));
  }

  /**
   * Node runs that already finished, in one statement (nodes that compute in memory: nobody could
   * watch them running, and they are recorded together before the next node with effects); more
   * than one statement carries go in chunks within one transaction. Worker-internal, by run id.
   */
  async recordNodes(runId: string, records: NodeRunRecord[], now: Date): Promise<void> {
    if (!records.length) return;
    const chunks = this.upserts.chunks(records, 0);
    if (chunks.length === 1) {
      await this.db.exec(this.upserts.statement(records.length), this.upserts.values(runId, records, now));
      return;
    }
    await this.db.atomic((tx) => this.upserts.write(tx, runId, chunks, now));
  }

  /** Worker-internal, by run id. */
  async finishNode(
    runId: string,
    nodeId: string,
    status: NodeRunStatus,
    outputs: unknown,
    error: string | null,
    now: Date,
  ): Promise<void> {
    const codec = this.db.codec(NodeRunEntity);
    const at = codec.param('finishedAt', now);
    await this.db.exec(FINISH_NODE, [status, codec.param('outputs', outputs), error, at, at, runId, nodeId]);
  }
}
