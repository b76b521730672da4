/**
 * One cron schedule: the `cron` package parses the expression and computes the next firing in the
 * time zone; this arms one timer at a time (so a firing missed while the process slept is not
 * replayed in a burst), adds jitter, and hands each firing to the warmer with its planned time,
 * which is what instances of a fleet agree on when they lock it.
 */
import { CronTime } from 'cron';
import { describe } from './duration';
import { CacheWarmError } from './errors';

/** setTimeout's longest delay; longer waits are armed in steps. */
const MAX_TIMER = 2_147_483_647;

/** Parses a cron expression in a time zone, or throws `INVALID_OPTIONS` naming the warmer. */
export function parseCron(expression: string, timeZone: string | undefined, warmer: string): CronTime {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new CacheWarmError(
      'INVALID_OPTIONS',
      `schedule of warmer "${warmer}" must be a cron expression; got ${describe(expression)}`,
      {
        details: { option: 'schedule', warmer },
      },
    );
  }
  try {
    return timeZone === undefined ? new CronTime(expression) : new CronTime(expression, timeZone);
  } catch (error) {
    throw new CacheWarmError(
      'INVALID_OPTIONS',
      `schedule of warmer "${warmer}" is not a valid cron expression${timeZone === undefined ? '' : ` in time zone ${timeZone}`}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { option: 'schedule', warmer } },
    );
  }
}

export class CronSchedule {
  readonly #time: CronTime;
  readonly #timeZone: string | undefined;
  readonly #jitterMs: number;
  readonly #fire: (plannedAt: number) => void;
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #next: number | undefined;
  #stopped = true;

  constructor(
    time: CronTime,
    timeZone: string | undefined,
    jitterMs: number,
    fire: (plannedAt: number) => void,
    random: () => number,
  ) {
    this.#time = time;
    this.#timeZone = timeZone;
    this.#jitterMs = jitterMs;
    this.#fire = fire;
    this.#random = random;
  }

  /** Epoch milliseconds of the next planned firing (before jitter), while running. */
  get next(): number | undefined {
    return this.#next;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#arm(Date.now());
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#next = undefined;
  }

  /** Arms the timer for the first firing strictly after `after`. */
  #arm(after: number): void {
    if (this.#stopped) return;
    const next = this.#time.getNextDateFrom(new Date(after), this.#timeZone).toMillis();
    this.#next = next;
    this.#wait(next, next + Math.floor(this.#random() * this.#jitterMs));
  }

  #wait(planned: number, at: number): void {
    const delay = Math.max(0, at - Date.now());
    this.#timer = setTimeout(
      () => {
        if (this.#stopped) return;
        if (Date.now() < at) {
          this.#wait(planned, at);
          return;
        }
        this.#arm(Math.max(Date.now(), planned));
        this.#fire(planned);
      },
      Math.min(delay, MAX_TIMER),
    );
    // A schedule alone must not keep a process alive that has nothing else to do.
    this.#timer.unref();
  }
}
