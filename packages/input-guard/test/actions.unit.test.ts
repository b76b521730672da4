import * as v from 'valibot';
import {
  checkSafeText,
  codeSafety,
  InputGuardError,
  noCommandInjection,
  noPathTraversal,
  noSqlInjection,
  noXss,
  SecureWorkflowInput,
  safeText,
} from '../src';

describe('valibot actions', () => {
  const Form = v.object({
    name: v.pipe(v.string(), noSqlInjection()),
    bio: v.pipe(v.string(), noXss()),
    host: v.pipe(v.string(), noCommandInjection({ level: 'strict' })),
    file: v.pipe(v.string(), noPathTraversal({ level: 'strict' })),
  });

  it('accepts ordinary values', () => {
    const result = v.safeParse(Form, {
      name: "O'Brien",
      bio: 'I <3 you',
      host: 'db.example.com',
      file: 'report.pdf',
    });
    expect(result.success).toBe(true);
  });

  it('reports each field with its rule and never quotes the value', () => {
    const secret = 'x-secret-marker';
    const result = v.safeParse(Form, {
      name: `${secret}' OR 1=1--`,
      bio: `<img src=x onerror=alert('${secret}')>`,
      host: `${secret}; rm -rf /`,
      file: `../../${secret}`,
    });
    expect(result.success).toBe(false);
    const issues = result.issues!.map((issue) => ({
      path: v.getDotPath(issue),
      type: issue.type,
      rule: issue.received,
    }));
    expect(issues).toEqual([
      { path: 'name', type: 'no_sql_injection', rule: 'sqli.tautology' },
      { path: 'bio', type: 'no_xss', rule: 'xss.event-handler' },
      { path: 'host', type: 'no_command_injection', rule: 'command.separator' },
      { path: 'file', type: 'no_path_traversal', rule: 'path.traversal' },
    ]);
    for (const issue of result.issues!) expect(issue.message).not.toContain(secret);
  });

  it('uses a caller-supplied message', () => {
    const Name = v.pipe(v.string(), noSqlInjection({}, 'Not a name'));
    expect(v.safeParse(Name, "' OR 1=1--").issues?.[0]?.message).toBe('Not a name');
  });

  it('validates options when the action is created', () => {
    expect(() => safeText({ maxLength: -1 })).toThrow(InputGuardError);
    expect(() => noXss({ level: 'loud' as never })).toThrow(InputGuardError);
  });
});

describe('safeText', () => {
  it('applies length, control character and bidi rules', () => {
    expect(checkSafeText('abc', { minLength: 5 }).issues.map((i) => i.rule)).toEqual(['text.too-short']);
    expect(checkSafeText('x'.repeat(11), { maxLength: 10 }).issues.map((i) => i.rule)).toEqual([
      'text.too-long',
    ]);
    expect(checkSafeText('a\u0007b').issues.map((i) => i.rule)).toEqual(['text.control-character']);
    expect(checkSafeText('invoice\u202Egpj.exe').issues.map((i) => i.rule)).toEqual(['text.bidi-override']);
    expect(checkSafeText('line\nbreak', { allowNewlines: false }).issues.map((i) => i.rule)).toEqual([
      'text.newline',
    ]);
    expect(checkSafeText('line\nbreak').ok).toBe(true);
    expect(checkSafeText('tab\tok').ok).toBe(true);
    expect(checkSafeText('\ud800').issues.map((i) => i.rule)).toEqual(['text.invalid-unicode']);
  });

  it('combines every detector, or the kinds asked for', () => {
    expect(checkSafeText('<script>alert(1)</script>').issues[0]).toMatchObject({ kind: 'xss' });
    expect(checkSafeText('<script>alert(1)</script>', { kinds: ['sqli'] }).ok).toBe(true);
  });

  it('works as an action', () => {
    const Comment = v.pipe(v.string(), safeText({ maxLength: 200 }));
    expect(v.safeParse(Comment, 'A sentence with a link: https://example.com/x?a=1&b=2.').success).toBe(true);
    expect(v.safeParse(Comment, '"><svg onload=alert(1)>').issues?.[0]?.received).toBe('xss.event-handler');
  });
});

describe('codeSafety', () => {
  it('passes safe code and names the first problem otherwise', () => {
    const Code = v.pipe(v.string(), codeSafety());
    expect(v.safeParse(Code, 'return input.map((x) => x + 1);').success).toBe(true);
    const result = v.safeParse(Code, 'const cp = require("child_process");');
    expect(result.issues?.[0]).toMatchObject({ type: 'safe_code', received: 'code.forbidden-global' });
  });
});

describe('SecureWorkflowInput', () => {
  const valid = {
    name: 'Nightly report',
    description: 'Fetches orders and emails a summary to the team.',
    nodes: [
      { id: 'start', type: 'trigger', config: { kind: 'schedule', cron: '0 3 * * *' } },
      {
        id: 'fetch',
        type: 'http',
        config: { method: 'GET', url: 'https://api.example.com/orders?since=1d' },
      },
      { id: 'shape', type: 'code', config: { code: 'return input.orders.filter((o) => o.total > 100);' } },
      {
        id: 'orders',
        type: 'query',
        config: { table: 'orders', columns: ['id', 'total'], where: { status: 'paid' } },
      },
      {
        id: 'mail',
        type: 'email',
        config: { to: ['team@example.com'], subject: 'Orders', body: "Hi team, here is today's report." },
      },
    ],
    edges: [
      { from: 'start', to: 'fetch' },
      { from: 'fetch', to: 'shape' },
      { from: 'shape', to: 'mail' },
    ],
  };

  it('accepts a realistic workflow and fills defaults', () => {
    const result = v.safeParse(SecureWorkflowInput, valid);
    expect(result.issues).toBeUndefined();
    if (!result.success) throw new Error('expected success');
    const code = result.output.nodes.find((n) => n.type === 'code');
    expect(code?.config).toMatchObject({ timeoutMs: 1000, language: 'javascript' });
  });

  it.each([
    ['an unknown node type', { id: 'x', type: 'shell', config: { command: 'ls' } }, 'nodes.5.type'],
    ['unsafe code', { id: 'x', type: 'code', config: { code: 'while (true) {}' } }, 'nodes.5.config.code'],
    [
      'a javascript: URL',
      { id: 'x', type: 'http', config: { method: 'GET', url: 'javascript:alert(1)' } },
      'nodes.5.config.url',
    ],
    [
      'an injected table name',
      { id: 'x', type: 'query', config: { table: 'orders; DROP TABLE users' } },
      'nodes.5.config.table',
    ],
    [
      'a SQL filter value',
      { id: 'x', type: 'query', config: { table: 'orders', where: { name: "x' OR '1'='1" } } },
      'nodes.5.config.where.name',
    ],
    [
      'path traversal',
      { id: 'x', type: 'file', config: { operation: 'read', path: '../../etc/passwd' } },
      'nodes.5.config.path',
    ],
    [
      'a header with a line break',
      {
        id: 'x',
        type: 'http',
        config: { method: 'GET', url: 'https://a.example', headers: { 'X-A': 'a\r\nSet-Cookie: x=1' } },
      },
      'nodes.5.config.headers.X-A',
    ],
    [
      'a subject with a line break',
      {
        id: 'x',
        type: 'email',
        config: { to: ['a@example.com'], subject: 'Hi\nBcc: all@example.com', body: 'x' },
      },
      'nodes.5.config.subject',
    ],
  ])('refuses %s', (_name, node, path) => {
    const result = v.safeParse(SecureWorkflowInput, { ...valid, nodes: [...valid.nodes, node] });
    expect(result.success).toBe(false);
    expect(result.issues!.map((i) => v.getDotPath(i))).toContain(path);
  });

  it('refuses XSS in the name and edges to missing nodes', () => {
    const result = v.safeParse(SecureWorkflowInput, {
      ...valid,
      name: '<img src=x onerror=alert(1)>',
      edges: [{ from: 'start', to: 'nowhere' }],
    });
    expect(result.issues!.map((i) => v.getDotPath(i)).sort()).toEqual(['edges', 'name']);
  });
});
