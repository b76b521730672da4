/**
 * The structures added in the second pass over the misses of the first implementation, each with
 * the benign look-alikes that must keep passing at the default level. The attack values are
 * written for these tests (not copied from the accuracy corpus), one per structure.
 */
import { detectCommandInjection, detectSqlInjection, detectXss, scan } from '../src';

describe('SQL probes and truncation', () => {
  it.each([
    ["7'", 'sqli.probe'],
    ['42`', 'sqli.probe'],
    ['3\\', 'sqli.probe'],
    ['12/*x*/', 'sqli.probe'],
    ['99/*!50000 " */', 'sqli.probe'],
    ['-- or #', 'sqli.comment-truncation'],
    ['/* and stop here', 'sqli.comment-truncation'],
    ['/**/', 'sqli.comment-truncation'],
    ['-- ', 'sqli.comment-truncation'],
    [';', 'sqli.statement-end'],
  ])('%s → %s', (value, rule) => {
    expect(detectSqlInjection(value)?.rule).toBe(rule);
  });

  it('reports a NUL byte, where C-based layers cut the query short', () => {
    const threat = detectSqlInjection("x%00' and the rest");
    expect(threat?.rule).toBe('sqli.nul-byte');
    expect(threat?.decoded).toBe(true);
    expect(threat?.span).toEqual({ start: 1, end: 2 });
  });

  it.each([
    "1'000.00",
    '6\'2"',
    '--1',
    '1,000',
    'Chapter 3: 1/2 of it',
    '5 stars',
    '-- Sent from my phone',
    '/* TODO: fix this later */',
  ])('passes %s', (value) => {
    expect(detectSqlInjection(value)).toBeUndefined();
  });
});

describe('SQL grammar', () => {
  it('notes an ORDER BY / GROUP BY cut short by a comment after a breakout', () => {
    expect(detectSqlInjection("abc' ORDER BY 4,--")?.rule).toBe('sqli.clause');
    expect(detectSqlInjection('Order by phone, or email')).toBeUndefined();
  });

  it("models PostgreSQL's COPY: server files and programs", () => {
    expect(detectSqlInjection("copy users from '/var/lib/pg/x.csv'")?.rule).toBe('sqli.attack-function');
    expect(detectSqlInjection("COPY (SELECT 1) TO PROGRAM 'id'")?.rule).toBe('sqli.attack-function');
    expect(detectSqlInjection('1; copy t to /tmp/out;')?.rule).toBe('sqli.stacked-query');
    expect(detectSqlInjection("Copy this from 'Bob'")).toBeUndefined();
  });

  it('reads SQL Server batches without a semicolon', () => {
    expect(detectSqlInjection("5 WAITFOR DELAY '0:0:9'")?.rule).toBe('sqli.stacked-query');
    expect(detectSqlInjection("q' EXEC master..xp_dirtree '//host/share'--")?.rule).toBe(
      'sqli.stacked-query',
    );
    expect(detectSqlInjection('4 exec sp_who')?.rule).toBe('sqli.stacked-query');
    expect(detectSqlInjection('2 exec members met')).toBeUndefined();
    expect(detectSqlInjection('3 declare the winner')).toBeUndefined();
  });

  it('reads ORDER BY / GROUP BY a column number and subqueries after a number', () => {
    expect(detectSqlInjection('9 order by 5')?.rule).toBe('sqli.clause');
    expect(detectSqlInjection('4 group by 2 having 1=1')?.rule).toBe('sqli.clause');
    expect(detectSqlInjection('1 procedure analyse()')?.rule).toBe('sqli.clause');
    expect(detectSqlInjection('3 = (select 3)')?.rule).toBe('sqli.subquery');
    expect(detectSqlInjection('2 order by Monday')).toBeUndefined();
    expect(detectSqlInjection('(Select all that apply)')).toBeUndefined();
  });

  it('holds DELETE and INSERT to their grammar', () => {
    expect(detectSqlInjection('1; delete from users where 1=1')?.rule).toBe('sqli.stacked-query');
    expect(detectSqlInjection("x'; insert into users (name) values ('a')--")?.rule).toBe(
      'sqli.stacked-query',
    );
    expect(detectSqlInjection('Delete the old files, then create new ones.')).toBeUndefined();
    expect(detectSqlInjection('Insert tab A into slot B, then replace the cover.')).toBeUndefined();
  });

  it("skips MySQL's `1.e` no-op between tokens", () => {
    expect(detectSqlInjection("z' or 2.e(3) or 'q'='q")?.rule).toBe('sqli.tautology');
    expect(detectSqlInjection('See section 1.e(ii), or 2.e(i)')).toBeUndefined();
  });
});

describe('XSS structures', () => {
  it.each([
    ['<p style="font:\'x&#10;;color:red">t', 'xss.css'],
    ['<p style="margin:0}p{color:red">t', 'xss.css'],
    ['<p style="background:url(a b.png)">t', 'xss.css'],
    ['<p style="background:url(a&#x7f;b)">t', 'xss.css'],
    ['<p style="color:&#2;red">t', 'xss.css'],
  ])('CSS that breaks out of its declaration: %s', (value, rule) => {
    expect(detectXss(value)?.rule).toBe(rule);
  });

  it.each([
    '<span style="color: red; font-family: \'Times New Roman\'">x</span>',
    '<div style="background:url(\'a b.png\')">x</div>',
    '<div style="background:url(/img/a.png) no-repeat">x</div>',
  ])('passes well-formed inline CSS: %s', (value) => {
    expect(detectXss(value)).toBeUndefined();
  });

  it('reads 7-bit stripped Latin-1 (¼ becomes <)', () => {
    expect(detectXss('¼iframe src=//x.example¾')?.rule).toBe('xss.script-element');
    expect(detectXss('¼ cup of sugar, ¾ cup of flour')).toBeUndefined();
  });

  it('reads event handlers the way lenient parsers do', () => {
    expect(detectXss('<b[x]onclick=[y]alert(1)>')?.rule).toBe('xss.event-handler');
    expect(detectXss('<p onmouseover%$=alert(1)>')?.rule).toBe('xss.event-handler');
    expect(detectXss('<p one-two="x">')).toBeUndefined();
    expect(detectXss('<my-element on="yes" data-x="1">')).toBeUndefined();
  });

  it.each([
    '<a href="http://0x7f.0.0.1/">x</a>',
    '<a href="http://2130706433/">x</a>',
    '<a href="http://0177.0.0.01/">x</a>',
    '<a href="http://%6c%6f%63%61%6c/">x</a>',
    '<a href="ht\ttp://ex\tample.com/">x</a>',
    '<img src="//10.1.2.3/x.png">',
  ])('links with a disguised host: %s', (value) => {
    expect(detectXss(value)?.rule).toBe('xss.url-evasion');
  });

  it.each([
    '<a href="https://example.com/a?b=%20c">x</a>',
    '<a href="http://example.com:8080/x">x</a>',
    '<a href="http://12345/">x</a>',
    '<a href="/relative/path">x</a>',
  ])('passes ordinary links: %s', (value) => {
    expect(detectXss(value)).toBeUndefined();
  });

  it('reports client-side template expressions that run code, at every level', () => {
    expect(detectXss("{{x.constructor.constructor('alert(1)')()}}")?.rule).toBe('xss.template-expression');
    expect(detectXss('Hello {{user.name}}')).toBeUndefined();
  });

  it('reports JavaScript entities and foreign content', () => {
    expect(detectXss('x &{alert(1)}; y')?.rule).toBe('xss.script-entity');
    expect(detectXss('<math><mi>x</mi></math>')?.rule).toBe('xss.foreign-content');
    expect(detectXss('<svg/onload=alert(1)>')?.rule).toBe('xss.event-handler');
    expect(detectXss('R&D {internal}')).toBeUndefined();
  });
});

describe('command structures', () => {
  it('reports values made only of separators at the default level', () => {
    expect(detectCommandInjection('; ')?.rule).toBe('command.separator');
    expect(detectCommandInjection('&&')?.rule).toBe('command.separator');
    expect(detectCommandInjection(' | ')?.rule).toBe('command.separator');
  });

  it('leaves a value made only of line breaks to balanced', () => {
    expect(detectCommandInjection('\n')).toBeUndefined();
    expect(detectCommandInjection('%0a')).toBeUndefined();
    expect(detectCommandInjection('\r\n', { level: 'balanced' })?.rule).toBe('command.separator');
  });

  it('reads bash brace expansion and #{…} expressions', () => {
    expect(detectCommandInjection('{ls,-la,/}')?.rule).toBe('command.command-line');
    expect(detectCommandInjection('x;{id,/tmp}')?.rule).toBe('command.separator');
    expect(detectCommandInjection('{cat,dog}')).toBeUndefined();
    expect(detectCommandInjection('Hi #{3*3}')?.rule).toBe('command.template-injection');
    expect(detectCommandInjection('Dear #{first_name},')).toBeUndefined();
  });

  it("reports PHP's complex {$…} interpolation, not plain placeholders", () => {
    expect(detectCommandInjection('x{$obj->run()}')?.rule).toBe('command.expansion');
    expect(detectCommandInjection('{$_POST["c"]}')?.rule).toBe('command.expansion');
    expect(detectCommandInjection('Dear {$name},')).toBeUndefined();
  });

  it('keeps prose with separators clean', () => {
    expect(scan('Salt & pepper; to taste | optional')).toEqual([]);
  });
});
