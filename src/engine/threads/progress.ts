/**
 * What a task and the main thread share while it runs, Int32 slots in a SharedArrayBuffer:
 * - STARTED: how many nodes the task has started (a stretch's culprit when a limit stops it);
 * - BEGUN / BEGUN_AT: set when the thread begins the task, and when (the budget starts there).
 */
export const PROGRESS_STARTED = 0;
export const PROGRESS_BEGUN = 1;
export const PROGRESS_BEGUN_AT = 2;
export const PROGRESS_BYTES = 12;

/** Milliseconds on a clock both threads read, folded into an Int32 slot (wraps every ~12 days). */
export const CLOCK_SLOT_SPAN = 2 ** 30;
export function clockSlot(): number {
  return Date.now() % CLOCK_SLOT_SPAN;
}
