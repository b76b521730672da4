/**
 * The unit of work: the span in which N+1 patterns are counted. It is the @plat/core request
 * context (an HTTP request opened by any @plat adapter) or an explicit `unitOfWork(fn)`.
 */
import { createContextSlot, currentContext, runWithContext } from '@plat/core';
import { type CallSite, type CapturedStack, resolveCallSite } from './call-site';
import { DbPerfError } from './errors';
import type { QueryFingerprint } from './fingerprint';
import type { NPlusOneOptions, NPlusOneReport, UnitOfWorkOptions, UnitOfWorkSummary } from './types';

/** Distinct parameter hashes kept per call site: enough to tell a loop from a retry. */
const MAX_PARAM_HASHES = 1024;

/** How an instance wants N+1s handled, resolved from its options. */
export interface NPlusOnePolicy {
  readonly mode: 'off' | 'warn' | 'throw';
  readonly threshold: number;
  readonly allow: ReadonlyArray<string | RegExp>;
  readonly ignoreCallSites: readonly RegExp[];
  /** Where reports go (the instance's logger and `onNPlusOne`). */
  readonly report: (report: NPlusOneReport) => void;
}

/** One query execution as the unit of work sees it. */
export interface UnitQuery {
  readonly fingerprint: QueryFingerprint;
  readonly parameterHash: number;
  readonly durationMs: number;
  readonly stack: CapturedStack | undefined;
  /** A fixed call site (batch loaders label their own queries). */
  readonly label: string | undefined;
}

interface SiteGroup {
  readonly callSite: string;
  count: number;
  totalMs: number;
  readonly parameters: Set<number>;
  reported: boolean;
}

interface FingerprintGroup {
  readonly fingerprint: QueryFingerprint;
  readonly policy: NPlusOnePolicy;
  /** The first execution, kept without a call site: single loads never pay for a stack capture. */
  first: UnitQuery | undefined;
  readonly sites: Map<string, SiteGroup>;
}

/** The state of one unit of work. */
export class UnitOfWork {
  queries = 0;
  totalMs = 0;
  failedQueries = 0;
  slowQueries = 0;
  readonly #groups = new Map<string, FingerprintGroup>();
  readonly #reports: NPlusOneReport[] = [];
  #finished = false;

  constructor(
    readonly requestId: string | undefined,
    /** Units nobody will finish (a request context without our middleware) report as they go. */
    readonly implicit: boolean,
    readonly options: UnitOfWorkOptions = {},
  ) {}

  /**
   * True when a query of this fingerprint already ran in this unit, so the next one needs its call
   * site (only repeats pay for a stack capture).
   */
  isRepeat(fingerprintId: string, instancePolicy: NPlusOnePolicy): boolean {
    if (this.#finished || !this.#groups.has(fingerprintId)) return false;
    return (this.options.nPlusOne?.mode ?? instancePolicy.mode) !== 'off';
  }

  /**
   * Records a query; throws `N_PLUS_ONE` in `throw` mode when this execution reaches the threshold.
   */
  record(query: UnitQuery, instancePolicy: NPlusOnePolicy): void {
    this.queries++;
    this.totalMs += query.durationMs;
    const policy = this.#policy(instancePolicy);
    if (policy.mode === 'off' || this.#finished) return;
    let group = this.#groups.get(query.fingerprint.id);
    if (group === undefined) {
      group = { fingerprint: query.fingerprint, policy, first: query, sites: new Map() };
      this.#groups.set(query.fingerprint.id, group);
      return;
    }
    const site = this.#add(group, query);
    if (group.first !== undefined) {
      // The first execution's stack was not captured (most queries run once): it counts for the
      // call site of the first repeat, which is where an N+1 loop's first iteration came from too.
      const first = group.first;
      group.first = undefined;
      if (first.label === query.label) {
        site.count++;
        site.totalMs += first.durationMs;
        site.parameters.add(first.parameterHash);
      } else this.#add(group, first);
    }
    if (site.parameters.size < policy.threshold || site.reported) return;
    if (isAllowed(policy.allow, group.fingerprint, site.callSite)) return;
    if (policy.mode === 'throw') {
      site.reported = true;
      const report = this.#report(group, site);
      throw new DbPerfError(
        'N_PLUS_ONE',
        `N+1 query: ${site.count} executions of the same query from ${site.callSite} in one unit of work. ${report.suggestion}`,
        {
          details: {
            fingerprintId: report.fingerprintId,
            callSite: report.callSite,
            count: report.count,
          },
        },
      );
    }
    if (this.implicit) {
      site.reported = true;
      this.#report(group, site);
    }
  }

  /** Ends the unit: reports every N+1 not reported yet (with its final count) and summarizes. */
  finish(): UnitOfWorkSummary {
    if (!this.#finished) {
      this.#finished = true;
      for (const group of this.#groups.values()) {
        for (const site of group.sites.values()) {
          if (site.reported || site.parameters.size < group.policy.threshold) continue;
          if (isAllowed(group.policy.allow, group.fingerprint, site.callSite)) continue;
          site.reported = true;
          this.#report(group, site);
        }
      }
    }
    return this.summary();
  }

  /**
   * What the unit did so far. Before `finish`, N+1s found but not reported yet are included with
   * their current counts (without reporting them).
   */
  summary(): UnitOfWorkSummary {
    const nPlusOne = [...this.#reports];
    if (!this.#finished) {
      for (const group of this.#groups.values()) {
        for (const site of group.sites.values()) {
          if (site.reported || site.parameters.size < group.policy.threshold) continue;
          if (isAllowed(group.policy.allow, group.fingerprint, site.callSite)) continue;
          nPlusOne.push(this.#reportOf(group, site));
        }
      }
    }
    return {
      requestId: this.requestId,
      queries: this.queries,
      totalMs: this.totalMs,
      failedQueries: this.failedQueries,
      slowQueries: this.slowQueries,
      nPlusOne,
    };
  }

  #policy(instance: NPlusOnePolicy): NPlusOnePolicy {
    const own = this.options.nPlusOne;
    if (own === undefined) return instance;
    return {
      ...instance,
      mode: own.mode ?? instance.mode,
      threshold: own.threshold ?? instance.threshold,
      allow: own.allow === undefined ? instance.allow : [...instance.allow, ...own.allow],
    };
  }

  #add(group: FingerprintGroup, query: UnitQuery): SiteGroup {
    const callSite = query.label ?? siteText(query.stack, group.policy.ignoreCallSites);
    let site = group.sites.get(callSite);
    if (site === undefined) {
      site = { callSite, count: 0, totalMs: 0, parameters: new Set(), reported: false };
      group.sites.set(callSite, site);
    }
    site.count++;
    site.totalMs += query.durationMs;
    if (site.parameters.size < MAX_PARAM_HASHES) site.parameters.add(query.parameterHash);
    return site;
  }

  #report(group: FingerprintGroup, site: SiteGroup): NPlusOneReport {
    const report = this.#reportOf(group, site);
    this.#reports.push(report);
    try {
      group.policy.report(report);
    } catch {
      // A failing log transport must not turn a report into a failed request.
    }
    return report;
  }

  #reportOf(group: FingerprintGroup, site: SiteGroup): NPlusOneReport {
    return {
      type: 'n-plus-one',
      fingerprint: group.fingerprint.text,
      fingerprintId: group.fingerprint.id,
      callSite: site.callSite,
      count: site.count,
      distinctParameters: site.parameters.size,
      totalMs: site.totalMs,
      requestId: this.requestId,
      suggestion: suggestionFor(group.fingerprint.text, site.count, site.callSite),
    };
  }
}

function siteText(stack: CapturedStack | undefined, ignore: readonly RegExp[]): string {
  if (stack === undefined) return 'unknown call site';
  const site: CallSite | undefined = resolveCallSite(stack, ignore);
  return site?.text ?? 'unknown call site';
}

function isAllowed(
  allow: ReadonlyArray<string | RegExp>,
  fingerprint: QueryFingerprint,
  callSite: string,
): boolean {
  return allow.some((rule) =>
    typeof rule === 'string'
      ? rule === fingerprint.id || fingerprint.text.includes(rule) || callSite.includes(rule)
      : rule.test(fingerprint.text) || rule.test(callSite),
  );
}

const SINGLE_ROW_LOOKUP = /^select .*? from "?([\w.]+)"?(?: as "?\w+"?)? where "?(?:\w+"?\.)?"?(\w+)"? = \?/;

/** A concrete suggestion from the fingerprint: a loader for key lookups, a join otherwise. */
function suggestionFor(fingerprint: string, count: number, callSite: string): string {
  if (callSite.startsWith('loader ')) {
    return (
      `The ${callSite} ran ${count} batches of one key: call load() for every key before awaiting ` +
      '(Promise.all or loadMany) so the keys batch into one query.'
    );
  }
  const lookup = SINGLE_ROW_LOOKUP.exec(fingerprint);
  if (lookup !== null) {
    const table = lookup[1]!.split('.').pop()!;
    const key = lookup[2]!;
    return (
      `Load the ${count} rows in one query: createLoader(db, { table: '${table}', key: '${key}' }) ` +
      `(or createRelationLoader for lists), or join ${table} in the query that produced the keys.`
    );
  }
  return `Fetch the ${count} results in one query (a join, or a batch loader over an "in" list).`;
}

const UNIT = createContextSlot<UnitOfWork>('@plat/db-perf.unitOfWork');

/**
 * The unit of work of the current request context: the one opened by `unitOfWork` or the adapters,
 * or an implicit one created on first use inside any other request context. Undefined outside.
 */
export function currentUnitOfWork(): UnitOfWork | undefined {
  const existing = UNIT.get();
  if (existing !== undefined) return existing;
  const context = currentContext();
  if (context === undefined) return undefined;
  return UNIT.getOrCreate(() => new UnitOfWork(context.requestId, true));
}

/**
 * Opens a unit of work on the current request context (or in a new context when there is none) and
 * makes it the one `currentUnitOfWork` returns. A unit already open on the context is reused.
 */
export function openUnitOfWork(options: UnitOfWorkOptions = {}): UnitOfWork | undefined {
  const context = currentContext();
  if (context === undefined) return undefined;
  const existing = UNIT.get();
  if (existing !== undefined && !existing.implicit) return existing;
  const unit = new UnitOfWork(context.requestId, false, options);
  UNIT.set(unit);
  return unit;
}

/**
 * Runs `fn` as one unit of work: queries it issues are counted together, repeated query shapes are
 * reported as N+1 once at the end (or fail at once in `throw` mode). Opens a request context when
 * called outside one; inside a unit that is already open, joins it.
 *
 * @example
 * ```ts
 * const users = await unitOfWork(async () => {
 *   const posts = await db.selectFrom('posts').selectAll().execute();
 *   return Promise.all(posts.map((p) => userLoader.load(p.author_id)));
 * });
 * ```
 */
export async function unitOfWork<T>(fn: () => Promise<T> | T, options: UnitOfWorkOptions = {}): Promise<T> {
  return (await profileUnitOfWork(fn, options)).result;
}

/**
 * Like `unitOfWork`, and also returns what the unit did: query count, time and N+1 reports. Handy in
 * tests (`expect(summary.queries).toBe(2)`).
 *
 * @example
 * ```ts
 * const { result, summary } = await profileUnitOfWork(() => handler());
 * expect(summary.nPlusOne).toEqual([]);
 * ```
 */
export async function profileUnitOfWork<T>(
  fn: () => Promise<T> | T,
  options: UnitOfWorkOptions = {},
): Promise<{ result: T; summary: UnitOfWorkSummary }> {
  const run = async () => {
    const existing = UNIT.get();
    if (existing !== undefined && !existing.implicit) {
      return { result: await fn(), summary: existing.summary() };
    }
    const unit = openUnitOfWork(options)!;
    let summary: UnitOfWorkSummary | undefined;
    try {
      const result = await fn();
      summary = unit.finish();
      return { result, summary };
    } finally {
      summary ??= unit.finish();
      try {
        options.onSummary?.(summary);
      } catch {
        // A failing summary hook must not change the unit's outcome.
      }
    }
  };
  return currentContext() === undefined ? runWithContext({}, run) : run();
}

/** Resolves an instance's N+1 options. */
export function nPlusOnePolicy(
  options: NPlusOneOptions | undefined,
  ignoreCallSites: readonly RegExp[],
  report: (report: NPlusOneReport) => void,
): NPlusOnePolicy {
  return {
    mode: options?.mode ?? 'warn',
    threshold: Math.max(2, options?.threshold ?? 5),
    allow: options?.allow ?? [],
    ignoreCallSites,
    report,
  };
}
