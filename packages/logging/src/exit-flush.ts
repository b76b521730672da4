/**
 * Flushes every open buffered destination when the process ends: synchronously on `exit` (which
 * also runs after an uncaught exception), and asynchronously on SIGTERM / SIGINT when nobody else
 * handles them, before letting the signal end the process as it would have.
 */

/** What the exit hooks need from a destination. */
export interface Flushable {
  flushSync(): void;
  flush(): Promise<void>;
}

const open = new Set<Flushable>();
let installed = false;
/** Signals whose default action (ending the process) would otherwise skip the `exit` event. */
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** How long a signal waits for buffered lines before the process ends anyway. */
const SIGNAL_FLUSH_LIMIT_MS = 2000;

function flushAllSync(): void {
  for (const destination of open) {
    try {
      destination.flushSync();
    } catch {
      // Exiting: nothing sane left to do with the error.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) {
    // The application handles this signal (a graceful shutdown, say) and will exit itself; the
    // `exit` hook flushes then. Flushing now as well keeps lines written before a slow shutdown.
    flushAllSync();
    return;
  }
  const flushes = [...open].map((destination) => destination.flush().catch(() => undefined));
  const limit = new Promise((resolve) => setTimeout(resolve, SIGNAL_FLUSH_LIMIT_MS).unref());
  void Promise.race([Promise.all(flushes), limit]).then(() => {
    flushAllSync();
    // Restore the default action and raise the signal again, so the process ends as it would have.
    for (const name of SIGNALS) process.removeListener(name, onSignal);
    process.kill(process.pid, signal);
  });
}

/** Registers a destination to be flushed when the process ends. */
export function flushOnExit(destination: Flushable): void {
  open.add(destination);
  if (installed) return;
  installed = true;
  process.on('exit', flushAllSync);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** Forgets a closed destination. */
export function forgetOnExit(destination: Flushable): void {
  open.delete(destination);
}
