/**
 * Entry of the engine's worker threads (piscina calls the default export once per task). The
 * thread holds no state between tasks but the loaded modules (QuickJS among them).
 */
import { format } from 'node:util';
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { THREAD_OUTPUT_CHANNEL } from './thread-output';
import { lowerThreadPriority, type ThreadSettings } from './thread-priority';
import { executeTask } from './thread-tasks';

// What runs here may print (QuickJS prints an abort's text, vendor paths included, to stderr):
// it goes to the main thread's debug log instead of the process's output.
const output = new BroadcastChannel(THREAD_OUTPUT_CHANNEL);
output.unref();
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  console[level] = (...args: unknown[]) => output.postMessage(format(...args));
}

lowerThreadPriority((workerData as ThreadSettings | undefined)?.nice ?? 0);

export default executeTask;
