import { PassThrough } from 'node:stream';
import { runCli } from '../src/cli';

async function run(args: string[], input: string) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  stderr.on('data', (chunk) => {
    err += chunk;
  });
  stdin.end(input);
  const code = await runCli(args, stdin, stdout, stderr);
  return { code, out, err };
}

describe('plat-guard scan', () => {
  it('writes one JSON line per input line, without echoing inputs', async () => {
    const { code, out } = await run(
      ['scan'],
      "O'Brien\n1' UNION SELECT password FROM users--\n\n../../etc/passwd\n",
    );
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.input_index)).toEqual([0, 1, 2, 3]);
    expect(lines[0].threats).toEqual([]);
    expect(lines[1].threats[0]).toMatchObject({ kind: 'sqli', rule: 'sqli.union' });
    expect(lines[3].threats[0]).toMatchObject({ kind: 'path' });
    expect(out).not.toContain('password');
  });

  it('honours --kinds and --level', async () => {
    const input = '<svg>\n';
    expect(JSON.parse((await run(['scan', '--kinds', 'sqli'], input)).out).threats).toEqual([]);
    expect(
      JSON.parse((await run(['scan', '--kinds=xss', '--level', 'balanced'], input)).out).threats,
    ).toHaveLength(1);
  });

  it('exits 2 with usage on bad arguments and 0 with --help', async () => {
    const bad = await run(['scan', '--level', 'loud'], '');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('level must be one of');
    expect((await run(['scan', '--kinds', 'ldap'], '')).code).toBe(2);
    const help = await run(['--help'], '');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: plat-guard scan');
  });
});
