/**
 * Preloaded into a child process by tests that measure memory (`-r`, with `--expose-gc`): on
 * SIGWINCH it collects garbage and prints the heap in use, so a test reads memory after a full GC
 * instead of a resident size that a lazy collector inflates. (Not SIGUSR2: Nest's shutdown hooks
 * stop the app on it.)
 */
process.on('SIGWINCH', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`heap-after-gc ${Date.now()} ${process.memoryUsage().heapUsed}\n`);
});
