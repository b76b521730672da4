/**
 * Every regular expression in the package is proven free of catastrophic backtracking with
 * recheck, and hostile 100 KB inputs finish (a generous "does not hang" bound, not a benchmark).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { analyzeCode, checkSafeText, GUARD_LEVELS, sanitizeFilename, scan } from '../src';

const SRC = join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

interface FoundRegex {
  file: string;
  source: string;
  flags: string;
}

/** Every regex literal in the sources, found with the TypeScript parser, plus any RegExp constructor call. */
function collectRegexes(): { literals: FoundRegex[]; constructed: string[] } {
  const literals: FoundRegex[] = [];
  const constructed: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isRegularExpressionLiteral(node)) {
        const literal = node.text;
        const slash = literal.lastIndexOf('/');
        literals.push({ file, source: literal.slice(1, slash), flags: literal.slice(slash + 1) });
      }
      if (
        (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
        node.expression.getText(source) === 'RegExp'
      ) {
        constructed.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { literals, constructed };
}

describe('ReDoS safety', () => {
  const { literals, constructed } = collectRegexes();

  it('builds no regular expression at run time (so the literals are all of them)', () => {
    expect(constructed).toEqual([]);
    expect(literals.length).toBeGreaterThan(5);
  });

  it.each(literals.map((r) => [`${r.file.slice(SRC.length + 1)}: /${r.source}/${r.flags}`, r] as const))(
    '%s is safe',
    (_name, regex) => {
      const diagnostics = checkSync(regex.source, regex.flags.replace('g', ''), { timeout: 20_000 });
      expect({ status: diagnostics.status, regex: regex.source }).toEqual({
        status: 'safe',
        regex: regex.source,
      });
    },
  );
});

describe('100 KB adversarial inputs complete', () => {
  const size = 100 * 1024;
  const repeat = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  const inputs: Array<[string, string]> = [
    ['quotes', repeat("'")],
    ['quote and operator', repeat("' OR '")],
    ['nested parentheses', `${repeat('(')}1`],
    ['comment openers', repeat('/*')],
    ['unclosed tags', repeat('<a ')],
    ['unclosed comments', repeat('<!--')],
    ['attribute soup', repeat('<x onload=')],
    ['event handler words', repeat(' onx=')],
    ['percent escapes', repeat('%25')],
    ['double-encoded dots', repeat('%252e')],
    ['dot segments', repeat('../')],
    ['dots only', repeat('.')],
    ['separators', repeat(';|&')],
    ['substitutions', repeat('$(')],
    ['backticks', repeat('`')],
    ['braces', repeat('{{')],
    ['entities', repeat('&#')],
    ['backslashes', repeat('\\x')],
    ['utf-7', repeat('+ADw-')],
    ['script scheme', repeat('javascript:')],
    ['union words', repeat('UNION ')],
    ['mixed', repeat(`'"<>;|&$(){}[]%\\/*-#=`)],
  ];

  it.each(inputs)(
    '%s',
    (_name, value) => {
      for (const level of GUARD_LEVELS) {
        const started = performance.now();
        scan(value, { level });
        checkSafeText(value, { level, maxLength: size });
        // Generous bound for a shared, noisy machine: quadratic behaviour would take minutes.
        expect(performance.now() - started).toBeLessThan(15_000);
      }
    },
    120_000,
  );

  it('code analysis and file names stay bounded too', () => {
    const started = performance.now();
    analyzeCode(repeat('(')); // refused quickly as a syntax error or too long
    analyzeCode(`x = ${repeat('[')}`);
    sanitizeFilename(repeat('../'));
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
