import { MessageEvent } from '@nestjs/common';
import { encodeEvents, SseFrame } from './sse-writer';

/**
 * A run's state at one version, with the frames that bring a client from an older version up to
 * it. Clients that were at the same version (nearly always all of them) share one encoded frame,
 * so a change costs one encoding and one write per client, however many are watching.
 */
export class RunState {
  private readonly frames = new Map<string, SseFrame | null>();

  constructor(
    readonly runVersion: number,
    readonly nodeVersion: number,
    private readonly runJson: string,
    private readonly nodeRunsJson: string,
  ) {}

  /** `run` if the run changed, `node_runs` if a node run did; ids carry the version reached. */
  framesSince(runVersion: number, nodeVersion: number): SseFrame | null {
    const key = `${runVersion}.${nodeVersion}`;
    let frame = this.frames.get(key);
    if (frame === undefined) {
      const events: MessageEvent[] = [];
      let run = runVersion;
      if (this.runVersion > runVersion) {
        run = this.runVersion;
        events.push({ type: 'run', data: this.runJson, id: `${run}.${nodeVersion}` });
      }
      if (this.nodeVersion > nodeVersion) {
        events.push({ type: 'node_runs', data: this.nodeRunsJson, id: `${run}.${this.nodeVersion}` });
      }
      frame = events.length ? encodeEvents(events) : null;
      this.frames.set(key, frame);
    }
    return frame;
  }
}
