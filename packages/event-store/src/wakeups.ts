/**
 * Waking subscriptions when events commit: directly inside this process, and through PostgreSQL
 * LISTEN/NOTIFY across processes. Polling remains the fallback for everything else.
 */
import { type Kysely, sql } from 'kysely';
import type { ListenClient, ListenPool } from './types';

type Listener = () => void;

/** Shortest gap between two NOTIFYs from one process: the added wake-up latency under load. */
const NOTIFY_GAP_MS = 20;

export class Wakeups {
  readonly #listeners = new Set<Listener>();
  #notifying: Promise<void> | undefined;
  #notifyAgain = false;
  #listenClient: ListenClient | undefined;
  #listenStarting: Promise<void> | undefined;
  #listenUsers = 0;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<unknown>,
    private readonly channel: string | undefined,
    private readonly listenPool: ListenPool | undefined,
  ) {}

  /** Subscribes to wake-ups; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #wakeLocal(): void {
    for (const listener of this.#listeners) listener();
  }

  /**
   * Called after events committed. Wakes local subscribers now and sends a NOTIFY for other
   * processes. NOTIFY serialises committing transactions on a global lock, so it is never part of
   * the append transaction, at most one is in flight per process, and under load at most one is
   * sent every 20 ms: appends that commit meanwhile share the next one.
   */
  committed(): void {
    this.#wakeLocal();
    if (this.channel === undefined || this.#closed) return;
    if (this.#notifying !== undefined) {
      this.#notifyAgain = true;
      return;
    }
    this.#notifying = this.#sendNotify();
  }

  async #sendNotify(): Promise<void> {
    try {
      do {
        this.#notifyAgain = false;
        await sql`select pg_notify(${this.channel}, '')`.execute(this.db);
        // Under load, appends share one NOTIFY per interval instead of paying one each.
        if (this.#notifyAgain && !this.#closed)
          await new Promise((resolve) => setTimeout(resolve, NOTIFY_GAP_MS));
      } while (this.#notifyAgain && !this.#closed);
    } catch {
      // A lost NOTIFY only delays other processes until their next poll.
    } finally {
      this.#notifying = undefined;
    }
  }

  /** Holds a LISTEN connection while at least one subscription runs (PostgreSQL with `listen`). */
  async retainListener(): Promise<void> {
    this.#listenUsers += 1;
    if (this.listenPool === undefined || this.channel === undefined) return;
    if (this.#listenClient === undefined) await this.#startListening();
  }

  releaseListener(): void {
    this.#listenUsers = Math.max(0, this.#listenUsers - 1);
    if (this.#listenUsers === 0) this.#stopListening();
  }

  #startListening(): Promise<void> {
    this.#listenStarting ??= (async () => {
      try {
        const client = await this.listenPool!.connect();
        client.on('notification', (message: { channel: string }) => {
          if (message.channel === this.channel) this.#wakeLocal();
        });
        client.on('error', (error: Error) => {
          client.removeAllListeners();
          client.release(error);
          if (this.#listenClient === client) this.#listenClient = undefined;
          this.#scheduleRelisten();
        });
        await client.query(`listen "${this.channel!.replaceAll('"', '""')}"`);
        if (this.#closed || this.#listenUsers === 0) {
          client.removeAllListeners();
          client.release();
          return;
        }
        this.#listenClient = client;
        // Events may have committed while we were connecting.
        this.#wakeLocal();
      } catch {
        this.#scheduleRelisten();
      } finally {
        this.#listenStarting = undefined;
      }
    })();
    return this.#listenStarting;
  }

  #scheduleRelisten(): void {
    if (this.#closed || this.#listenUsers === 0 || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#listenClient === undefined) void this.#startListening();
    }, 1000);
    this.#retryTimer.unref();
  }

  #stopListening(): void {
    const client = this.#listenClient;
    this.#listenClient = undefined;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (client === undefined) return;
    client.removeAllListeners();
    // UNLISTEN before handing the connection back, so the pool's next user gets a clean one.
    client.query('unlisten *').then(
      () => client.release(),
      (error: Error) => client.release(error),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listenUsers = 0;
    await this.#listenStarting;
    this.#stopListening();
    await this.#notifying;
    this.#listeners.clear();
  }
}
