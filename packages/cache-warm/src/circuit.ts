/**
 * A circuit breaker over one warmer's loads: consecutive failures (or loads slower than `slowMs`,
 * the sign of a struggling database) open it; while open no load starts; after `cooldownMs` one
 * trial load is let through, and its outcome closes or reopens the circuit.
 */
import type { CircuitState } from './types';

export class Circuit {
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialRunning = false;

  constructor(
    private readonly threshold: number,
    private readonly slowMs: number,
    private readonly cooldownMs: number,
    private readonly now: () => number,
  ) {}

  get state(): CircuitState {
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.cooldownMs) return 'half-open';
    return this.#state;
  }

  /** True when a load may start now; in half-open, only one trial at a time. */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trialRunning) return false;
    this.#state = 'half-open';
    this.#trialRunning = true;
    return true;
  }

  /** Records a finished load; a slow success counts as a failure. */
  record(ok: boolean, durationMs: number): void {
    const healthy = ok && durationMs <= this.slowMs;
    if (this.#state === 'half-open') {
      this.#trialRunning = false;
      if (healthy) this.#close();
      else this.#open();
      return;
    }
    if (healthy) {
      this.#failures = 0;
      return;
    }
    this.#failures += 1;
    if (this.#failures >= this.threshold) this.#open();
  }

  #open(): void {
    this.#state = 'open';
    this.#openedAt = this.now();
    this.#failures = 0;
  }

  #close(): void {
    this.#state = 'closed';
    this.#failures = 0;
  }
}
