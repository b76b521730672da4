import { dbLogFields, profileUnitOfWork, serverTiming, type UnitOfWorkSummary } from '../src';

const summary = (extra: Partial<UnitOfWorkSummary> = {}): UnitOfWorkSummary => ({
  requestId: 'r1',
  queries: 3,
  totalMs: 4.256,
  failedQueries: 0,
  slowQueries: 1,
  nPlusOne: [],
  ...extra,
});

describe('request summaries', () => {
  it('formats Server-Timing with query count, time and N+1s', () => {
    expect(serverTiming(summary())).toBe('db;dur=4.3;desc="3 queries"');
    expect(serverTiming(summary({ queries: 1, totalMs: 0.04 }))).toBe('db;dur=0.0;desc="1 query"');
    const report = {
      type: 'n-plus-one' as const,
      fingerprint: 'select * from "users" where "id" = ?',
      fingerprintId: 'abc',
      callSite: 'list (src/a.ts:1:1)',
      count: 9,
      distinctParameters: 9,
      totalMs: 2,
      requestId: 'r1',
      suggestion: '',
    };
    expect(serverTiming(summary({ nPlusOne: [report] }))).toBe('db;dur=4.3;desc="3 queries, 1 N+1"');
    expect(dbLogFields(summary({ nPlusOne: [report] }))).toEqual({
      db: {
        queries: 3,
        ms: 4.26,
        slow: 1,
        failed: 0,
        nPlusOne: [{ fingerprintId: 'abc', callSite: 'list (src/a.ts:1:1)', count: 9 }],
      },
    });
  });

  it('summarizes an empty unit of work', async () => {
    const { result, summary: empty } = await profileUnitOfWork(() => 42);
    expect(result).toBe(42);
    expect(empty).toMatchObject({ queries: 0, totalMs: 0, nPlusOne: [] });
    expect(empty.requestId).toEqual(expect.any(String));
  });

  it('passes errors of the work through and still summarizes', async () => {
    const seen: UnitOfWorkSummary[] = [];
    await expect(
      profileUnitOfWork(
        () => {
          throw new Error('work failed');
        },
        { onSummary: (s) => seen.push(s) },
      ),
    ).rejects.toThrow('work failed');
    expect(seen).toHaveLength(1);
  });
});
