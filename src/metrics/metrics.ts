import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppConfig } from '../config/app-config';
import { RunRepository } from '../database/repositories/run.repository';
import { aliveSince, WorkerRepository } from '../database/repositories/worker.repository';
import { RUN_STATUSES } from '../database/entities/run.entity';

/** From package.json, read once: it sits two levels above this file in the sources (src/) and the build (dist/). */
export const RUNLOOM_VERSION = readVersion();

function readVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Prometheus metrics (prom-client), one registry per application instance: several apps in one
 * process (the e2e suite) must not share prom-client's global registry. Counters and histograms
 * are this process's; the run gauges are read from the database at scrape time, so every
 * instance reports the same value (aggregate them with `max`, not `sum`).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'runloom_http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly queueToStart = new Histogram({
    name: 'runloom_run_queue_to_start_seconds',
    help: 'From a run being queued to a worker of this process first claiming it.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly runsFinished = new Counter({
    name: 'runloom_runs_finished_total',
    help: 'Runs this process executed to a terminal state, by status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly sseConnections = new Gauge({
    name: 'runloom_sse_connections',
    help: 'Open server-sent event streams.',
    registers: [this.registry],
  });

  readonly egressBlocks = new Counter({
    name: 'runloom_egress_blocks_total',
    help: 'Outbound calls refused by the egress policy or the SSRF guard, by rule.',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });

  constructor(runs: RunRepository, workers: WorkerRepository, config: AppConfig) {
    // The default collectors keep their standard names (process_*, nodejs_*) so that ready-made
    // Node.js dashboards and alerts work unchanged.
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'runloom_build_info',
      help: 'Always 1; the labels say which Runloom and Node.js this process runs.',
      labelNames: ['version', 'node_version'] as const,
      registers: [this.registry],
    }).set({ version: RUNLOOM_VERSION, node_version: process.version }, 1);
    new Gauge({
      name: 'runloom_runs',
      help: 'Runs in the database by status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await runs.countByStatus();
        for (const status of RUN_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
    new Gauge({
      name: 'runloom_workers_alive',
      help: 'Processes with the worker role whose heartbeat is recent (from the database).',
      registers: [this.registry],
      async collect() {
        this.set(await workers.countAlive(aliveSince(new Date(), config.worker.heartbeatMs)));
      },
    });
    new Gauge({
      name: 'runloom_queue_depth',
      help: 'Queued runs due now (waiting for a worker).',
      registers: [this.registry],
      async collect() {
        this.set(await runs.countDue(new Date()));
      },
    });
  }
}
