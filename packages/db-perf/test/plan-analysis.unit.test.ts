import { analyzePostgresPlan, analyzeSqlitePlan, type PgPlanNode } from '../src';
import { candidateColumnLists, conditionColumns, sortColumns } from '../src/index-candidates';

const seqScan = (extra: Partial<PgPlanNode> = {}): PgPlanNode => ({
  'Node Type': 'Seq Scan',
  'Relation Name': 'orders',
  Alias: 'orders',
  'Total Cost': 1887.0,
  'Plan Rows': 20,
  'Actual Rows': 20,
  'Actual Loops': 1,
  Filter: '(customer_id = 4242)',
  'Rows Removed by Filter': 99_980,
  ...extra,
});

describe('analyzePostgresPlan', () => {
  it('reports a sequential scan of a large table with a selective filter', () => {
    const { findings, indexInputs, analyzed, totalCost } = analyzePostgresPlan(seqScan());
    expect(analyzed).toBe(true);
    expect(totalCost).toBe(1887);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'seq-scan-filter',
      severity: 'high',
      relation: 'orders',
      metrics: { scannedRows: 100_000, returnedRows: 20, removedRows: 99_980, loops: 1 },
    });
    expect(indexInputs).toEqual([
      {
        relation: 'orders',
        schema: undefined,
        alias: 'orders',
        conditions: ['(customer_id = 4242)'],
        sortKeys: [],
      },
    ]);
  });

  it('multiplies rows removed by loops', () => {
    const plan = seqScan({
      'Actual Loops': 3,
      'Actual Rows': 7,
      'Rows Removed by Filter': 33_000,
      'Node Type': 'Parallel Seq Scan',
    });
    const [finding] = analyzePostgresPlan(plan).findings;
    expect(finding?.metrics).toMatchObject({ scannedRows: 99_021, removedRows: 99_000, loops: 3 });
  });

  it('ignores small tables and unselective filters', () => {
    expect(analyzePostgresPlan(seqScan({ 'Rows Removed by Filter': 500 })).findings).toEqual([]);
    expect(
      analyzePostgresPlan(
        seqScan({ 'Actual Rows': 60_000, 'Plan Rows': 60_000, 'Rows Removed by Filter': 40_000 }),
      ).findings,
    ).toEqual([]);
  });

  it('uses table estimates when the plan was not analyzed', () => {
    const plan = seqScan();
    delete plan['Actual Rows'];
    delete plan['Actual Loops'];
    delete plan['Rows Removed by Filter'];
    expect(analyzePostgresPlan(plan).findings).toEqual([]); // no table size known
    const { findings, analyzed } = analyzePostgresPlan(plan, { tableRows: new Map([['orders', 100_000]]) });
    expect(analyzed).toBe(false);
    expect(findings[0]).toMatchObject({
      kind: 'seq-scan-filter',
      message: expect.stringContaining('[estimated]'),
    });
  });

  it('reports a sort that spilled to disk and remembers its keys', () => {
    const plan: PgPlanNode = {
      'Node Type': 'Sort',
      'Sort Key': ['orders.created_at DESC'],
      'Sort Method': 'external merge',
      'Sort Space Used': 150_000,
      'Sort Space Type': 'Disk',
      'Actual Rows': 1000,
      'Plan Rows': 1000,
      'Actual Loops': 1,
      Plans: [seqScan({ 'Actual Rows': 1000, 'Plan Rows': 1000, 'Rows Removed by Filter': 99_000 })],
    };
    const { findings, indexInputs } = analyzePostgresPlan(plan);
    expect(findings.map((f) => f.kind)).toEqual(['sort-spill', 'seq-scan-filter']);
    expect(findings[0]).toMatchObject({ severity: 'high', metrics: { spaceKb: 150_000 } });
    expect(indexInputs[0]?.sortKeys).toEqual(['orders.created_at DESC']);
  });

  it('reports a nested loop over a sequential scan, with its join condition', () => {
    const plan: PgPlanNode = {
      'Node Type': 'Nested Loop',
      'Join Filter': '(o.customer_id = c.id)',
      'Actual Rows': 100,
      'Plan Rows': 100,
      'Actual Loops': 1,
      Plans: [
        {
          'Node Type': 'Seq Scan',
          'Relation Name': 'customers',
          Alias: 'c',
          'Parent Relationship': 'Outer',
          'Actual Rows': 100,
          'Plan Rows': 100,
          'Actual Loops': 1,
        },
        {
          'Node Type': 'Materialize',
          'Parent Relationship': 'Inner',
          'Actual Rows': 1,
          'Plan Rows': 1,
          'Actual Loops': 100,
          Plans: [
            {
              'Node Type': 'Seq Scan',
              'Relation Name': 'orders',
              Alias: 'o',
              'Actual Rows': 1,
              'Plan Rows': 1,
              'Actual Loops': 100,
              'Rows Removed by Filter': 20_000,
            },
          ],
        },
      ],
    };
    const { findings, indexInputs } = analyzePostgresPlan(plan);
    const loop = findings.find((f) => f.kind === 'nested-loop-seq-scan');
    expect(loop).toMatchObject({
      relation: 'orders',
      severity: 'high',
      metrics: { loops: 100, totalRows: 2_000_100 },
    });
    expect(indexInputs.find((input) => input.relation === 'orders')?.conditions).toEqual([
      '(o.customer_id = c.id)',
    ]);
  });

  it('reports row estimates off by an order of magnitude', () => {
    const plan: PgPlanNode = {
      'Node Type': 'Index Scan',
      'Relation Name': 'events',
      'Plan Rows': 5,
      'Actual Rows': 50_000,
      'Actual Loops': 1,
    };
    expect(analyzePostgresPlan(plan).findings[0]).toMatchObject({
      kind: 'estimate-error',
      severity: 'high',
      metrics: { ratio: 10_000 },
    });
    const close: PgPlanNode = { ...plan, 'Actual Rows': 30 };
    expect(analyzePostgresPlan(close).findings).toEqual([]);
  });
});

describe('index candidates', () => {
  it('reads equality and range columns from plan conditions', () => {
    expect(conditionColumns("((customer_id = 42) AND (created_at > '2024-01-01'::date))", 'orders')).toEqual({
      equality: ['customer_id'],
      range: ['created_at'],
      sort: [],
    });
    expect(conditionColumns("((status)::text = 'open'::text)", undefined).equality).toEqual(['status']);
    expect(conditionColumns('(o.customer_id = c.id)', 'o').equality).toEqual(['customer_id']);
    expect(conditionColumns('(c.id = o.customer_id)', 'o').equality).toEqual(['customer_id']);
    expect(conditionColumns('((a = 1) OR (b = 2))', undefined).equality).toEqual([]);
    expect(conditionColumns("(id = ANY ('{1,2}'::integer[]))", undefined).equality).toEqual(['id']);
  });

  it('orders candidates as a B-tree can use them', () => {
    expect(candidateColumnLists({ equality: ['customer_id'], range: ['created_at'], sort: [] })).toEqual([
      ['customer_id', 'created_at'],
      ['customer_id'],
      ['created_at'],
    ]);
    expect(
      candidateColumnLists({
        equality: ['tenant'],
        range: [],
        sort: sortColumns(['o.created_at DESC'], 'o'),
      }),
    ).toEqual([['tenant'], ['tenant', 'created_at'], ['created_at']]);
  });
});

describe('analyzeSqlitePlan', () => {
  it('reports full scans of large tables and temporary sorts', () => {
    const rows = [
      { id: 2, parent: 0, detail: 'SCAN orders' },
      { id: 3, parent: 0, detail: 'SEARCH customers USING INTEGER PRIMARY KEY (rowid=?)' },
      { id: 9, parent: 0, detail: 'USE TEMP B-TREE FOR ORDER BY' },
    ];
    const { findings, scans } = analyzeSqlitePlan(rows, new Map([['orders', 100_000]]), { hasFilter: true });
    expect(scans).toEqual([{ table: 'orders', detail: 'SCAN orders' }]);
    expect(findings.map((f) => [f.kind, f.severity])).toEqual([
      ['full-scan', 'high'],
      ['temp-sort', 'low'],
    ]);
    expect(
      analyzeSqlitePlan([{ id: 2, parent: 0, detail: 'SCAN orders USING INDEX orders_idx' }], new Map())
        .findings,
    ).toEqual([]);
    expect(analyzeSqlitePlan(rows.slice(0, 1), new Map([['orders', 50]])).findings).toEqual([]);
  });
});
