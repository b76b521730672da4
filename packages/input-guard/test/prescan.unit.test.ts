/**
 * The shortcuts that keep benign text fast must never change a verdict: the character pre-scan
 * (NFKC skipped only when NFKC would change nothing), and the JavaScript shortcuts (a parse is
 * skipped only when it would certainly fail or find nothing that runs).
 */

import { seededRandom } from '@plat/testkit';
import { parse } from 'acorn';
import { C, charMask } from '../src/detect/chars';
import { decodeViews, nfkc } from '../src/detect/decode';
import { certainSyntaxError, mayRunCode } from '../src/detect/js';

describe('charMask', () => {
  it('reports the same ASCII classes whatever the length and representation', () => {
    const ascii = 'a1 \'"`<>;|&$(){}=/\\.%:\n\r\t\0#*+-@^!,?[]~\x7f';
    for (const ch of ascii) {
      const alone = charMask(ch);
      expect(charMask(`xyz${ch}`.repeat(2000)) & ~(C.LETTER | C.DIGIT)).toBe(alone & ~(C.LETTER | C.DIGIT));
      expect(charMask(`${'q'.repeat(40)}é${ch}`) & alone).toBe(alone);
    }
    expect(charMask('plain words only')).toBe(C.LETTER);
  });

  it('marks controls, bidirectional overrides, surrogates and look-alikes', () => {
    expect(charMask('a\u0085b') & C.C1).toBe(C.C1);
    expect(charMask('a\u202eb') & C.BIDI).toBe(C.BIDI);
    expect(charMask('a\u2067b') & C.BIDI).toBe(C.BIDI);
    expect(charMask('😍') & C.SURROGATE).toBe(C.SURROGATE);
    expect(charMask('a\ud800') & C.SURROGATE).toBe(C.SURROGATE);
    expect(charMask('x′ or ′1') & C.CONFUSABLE).toBe(C.CONFUSABLE);
    expect(charMask('..∕etc') & C.CONFUSABLE).toBe(C.CONFUSABLE);
    expect(charMask('café') & C.CONFUSABLE).toBe(0);
  });

  it('skips NFKC only for text NFKC leaves unchanged', () => {
    const alphabet = [
      ...'aZ09 .,\'"<>',
      'é',
      'e\u0301',
      '\u0301',
      'ﬁ',
      '＜',
      '¼',
      '²',
      '\u00a0',
      '田',
      '가',
      '\u1100',
      '\u1161',
      '\u11a8',
      'Å',
      'Ω',
      '😍',
      '👩🏽',
      '\u{1d400}',
      'ด้',
      '\u0663',
      '\u200d',
      '\ufe0f',
      '\u3099',
      'か',
      'ｶ',
      '\u0cbf',
      '\u0cd5',
    ];
    const random = seededRandom(11);
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const length = 1 + Math.floor(random() * 6);
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      if ((charMask(text) & C.NFKC) === 0) expect(text.normalize('NFKC')).toBe(text);
      expect(nfkc(text)).toBe(text.normalize('NFKC'));
    }
  });

  it('still decodes full-width markup and look-alike text', () => {
    expect(decodeViews('＜script＞', 0)[0]?.text).toBe('<script>');
    expect(decodeViews('ﬁle', 0)[0]?.text).toBe('file');
    expect(decodeViews('e\u0301', 0)[0]?.text).toBe('é');
  });
});

describe('JavaScript shortcuts', () => {
  const TOKENS = [
    'a',
    'alert',
    '(',
    ')',
    '1',
    ' ',
    "'",
    '"',
    ';',
    '=',
    '==',
    '+',
    '-',
    '++',
    'if',
    'else',
    'typeof',
    'in',
    'new',
    '[',
    ']',
    '{',
    '}',
    ',',
    '.',
    ':',
    '?',
    '<',
    '!',
    '<!--',
    '-->',
    'return',
    'function',
    'let',
    'of',
    'for',
    '=>',
    'async',
    'await',
    'get',
    '&&',
    '`',
    '/',
    '\\',
    '\n',
    '0x1',
    '.5',
    'class',
    'yield',
    'case',
    'this',
    '\u00a0',
    'é',
    '\u2028',
    '\r',
    '/**/',
    '?.',
    '<<=',
    '===',
    '<=',
  ];
  const options = {
    ecmaVersion: 'latest',
    sourceType: 'script',
    allowReturnOutsideFunction: true,
    allowHashBang: true,
  } as const;
  const ACTIVE =
    /"type":"(?:CallExpression|NewExpression|TaggedTemplateExpression|AssignmentExpression|UpdateExpression|ImportExpression)"/;

  it('never claims a syntax error in valid code, never misses code that runs', () => {
    const random = seededRandom(5);
    let claimed = 0;
    for (let n = 0; n < 40_000; n++) {
      let text = '';
      const length = 1 + Math.floor(random() * 8);
      for (let k = 0; k < length; k++) text += TOKENS[Math.floor(random() * TOKENS.length)];
      let program: unknown;
      try {
        program = parse(text, options);
      } catch {
        program = undefined;
      }
      if (certainSyntaxError(text, 0)) {
        claimed++;
        expect({ text, parses: program !== undefined }).toEqual({ text, parses: false });
      }
      if (program !== undefined && !mayRunCode(text, 0)) {
        expect({ text, active: ACTIVE.test(JSON.stringify(program)) }).toEqual({ text, active: false });
      }
    }
    // The shortcut is worth having: it decides a good share of what it sees.
    expect(claimed).toBeGreaterThan(300);
  });

  it('decides prose after a quote without parsing', () => {
    expect(certainSyntaxError("s book, and (more) text'", 0)).toBe(true);
    expect(certainSyntaxError('(<a href="http://x">link</a>)', 0)).toBe(true);
    expect(certainSyntaxError(';if(1)alert(1)//', 0)).toBe(false);
    expect(certainSyntaxError('-alert(1)-', 0)).toBe(false);
  });
});
