import { createLogger, createMemoryTransport, type LoggerOptions, type RedactOptions } from '../src';

const keyId = '4fQ9aB7cD2eF';
const secret = 'Zk2Lm9Np0Qr8St7Uv6Wx5Yz4Ab3Cd2Ef';
const apiKey = `plat_live_${keyId}_${secret}_0aB3xY`;
const redactedKey = `plat_live_${keyId}_[REDACTED]`;
const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

function logOne(
  fields: Record<string, unknown>,
  redact: RedactOptions | false = {},
  options: LoggerOptions = {},
) {
  const memory = createMemoryTransport();
  const logger = createLogger({ transports: [memory], logUncaught: false, redact, ...options });
  logger.info('line', fields);
  expect(memory.lines).toHaveLength(1);
  return { record: memory.records()[0] as Record<string, unknown>, line: memory.lines[0] as string };
}

describe('redaction', () => {
  it('hides secret keys in nested objects and arrays, whatever their spelling', () => {
    const { record, line } = logOne({
      user: { name: 'ada', password: 'hunter2', profile: { passwordHash: 'x1', apiKey: 'k1' } },
      sessions: [
        { id: 1, accessToken: 't1' },
        { id: 2, refresh_token: 't2', tokenCount: 5 },
      ],
      config: { 'client-secret': 's1', PRIVATE_KEY: 'p1', credentials: { u: 1 }, auth: 'a', author: 'ok' },
    });
    expect(record).toMatchObject({
      user: {
        name: 'ada',
        password: '[REDACTED]',
        profile: { passwordHash: '[REDACTED]', apiKey: '[REDACTED]' },
      },
      sessions: [
        { id: 1, accessToken: '[REDACTED]' },
        { id: 2, refresh_token: '[REDACTED]', tokenCount: 5 },
      ],
      config: {
        'client-secret': '[REDACTED]',
        PRIVATE_KEY: '[REDACTED]',
        credentials: '[REDACTED]',
        auth: '[REDACTED]',
        author: 'ok',
      },
    });
    for (const value of ['hunter2', 'x1', 'k1', 't1', 't2', 's1', 'p1'])
      expect(line).not.toContain(`"${value}"`);
  });

  it('hides authorization, cookie and API key headers in plain objects, Headers and Maps', () => {
    const incoming = {
      authorization: `Bearer ${apiKey}`,
      cookie: 'sid=abc',
      'set-cookie': ['sid=abc; HttpOnly'],
      'x-api-key': apiKey,
      'proxy-authorization': 'Basic eDp5',
      'content-type': 'application/json',
    };
    const { record, line } = logOne({
      req: { headers: incoming },
      fetchHeaders: new Headers({ Authorization: 'Bearer abc', Accept: 'text/html' }),
      map: new Map([['cookie', 'sid=1']]),
    });
    expect(record).toMatchObject({
      req: {
        headers: {
          authorization: '[REDACTED]',
          cookie: '[REDACTED]',
          'set-cookie': '[REDACTED]',
          'x-api-key': '[REDACTED]',
          'proxy-authorization': '[REDACTED]',
          'content-type': 'application/json',
        },
      },
      fetchHeaders: { authorization: '[REDACTED]', accept: 'text/html' },
      map: { cookie: '[REDACTED]' },
    });
    expect(line).not.toContain(secret);
  });

  it('hides our API keys, JWTs and URL passwords inside any string, the message included', () => {
    const memory = createMemoryTransport();
    const logger = createLogger({ transports: [memory], logUncaught: false });
    logger.warn(`retrying with ${apiKey}`, {
      note: `client sent "${apiKey}" twice`,
      list: ['plain', `key=${apiKey}`],
      text: `token ${jwt} expired`,
      dsn: 'postgres://app:s3cr3t@db.internal:5432/main',
      error: new Error(`invalid key ${apiKey}`),
    });
    const record = memory.records()[0] as Record<string, unknown>;
    expect(record.message).toBe(`retrying with ${redactedKey}`);
    expect(record).toMatchObject({
      note: `client sent "${redactedKey}" twice`,
      list: ['plain', `key=${redactedKey}`],
      text: 'token [REDACTED] expired',
      dsn: 'postgres://app:[REDACTED]@db.internal:5432/main',
      error: { message: `invalid key ${redactedKey}` },
    });
    expect(memory.lines[0]).not.toContain(secret);
    expect(memory.lines[0]).not.toContain('s3cr3t');
    expect(memory.lines[0]).not.toContain('dBjftJeZ4CVP');
  });

  it('hides configured paths, with wildcards for keys and array items', () => {
    const { record } = logOne(
      {
        user: { ssn: '123-45-6789', name: 'ada' },
        cards: [
          { number: '4111111111111111', brand: 'visa' },
          { number: '5500000000000004', brand: 'mc' },
        ],
        a: { b: { pin: '1234' }, c: { pin: '5678' } },
        headers: { 'x-internal': 'yes', 'x-public': 'no' },
      },
      { paths: ['user.ssn', 'cards[*].number', 'a.*.pin', 'headers["x-internal"]'] },
    );
    expect(record).toMatchObject({
      user: { ssn: '[REDACTED]', name: 'ada' },
      cards: [
        { number: '[REDACTED]', brand: 'visa' },
        { number: '[REDACTED]', brand: 'mc' },
      ],
      a: { b: { pin: '[REDACTED]' }, c: { pin: '[REDACTED]' } },
      headers: { 'x-internal': '[REDACTED]', 'x-public': 'no' },
    });
  });

  it('applies paths to bound fields too, and accepts a top-level wildcard', () => {
    const memory = createMemoryTransport();
    const logger = createLogger({
      transports: [memory],
      logUncaught: false,
      redact: { paths: ['*.email'] },
      fields: { owner: { email: 'a@b.c' } },
    });
    logger.child({ customer: { email: 'x@y.z', id: 7 } }).info('m', { other: { email: 'q@r.s' } });
    expect(memory.records()[0]).toMatchObject({
      owner: { email: '[REDACTED]' },
      customer: { email: '[REDACTED]', id: 7 },
      other: { email: '[REDACTED]' },
    });
  });

  it('takes extra keys, regular expressions, patterns and a censor of your own', () => {
    const { record } = logOne(
      {
        ssn: '1',
        Internal_Note: 'n',
        x_debug_blob: 'b',
        text: 'card 4111-1111-1111-1111 used',
        password: 'p',
      },
      { keys: ['internalNote', /^x_debug_/], patterns: [/\b(?:\d{4}-){3}\d{4}\b/], censor: '***' },
    );
    expect(record).toMatchObject({
      Internal_Note: '***',
      x_debug_blob: '***',
      text: 'card *** used',
      password: '***',
      ssn: '1',
    });
  });

  it('can keep the default keys off, or turn everything off', () => {
    expect(
      logOne({ password: 'p', extra: 'e' }, { defaultKeys: false, keys: ['extra'] }).record,
    ).toMatchObject({
      password: 'p',
      extra: '[REDACTED]',
    });
    const { record } = logOne({ password: 'p', key: apiKey }, false);
    expect(record).toMatchObject({ password: 'p', key: apiKey });
  });

  it('never mutates the caller’s objects', () => {
    const nested = { password: 'p', keep: [{ token: 't', ok: 1 }] };
    const fields = Object.freeze({
      user: Object.freeze({ password: 'hunter2', name: 'ada' }),
      nested,
      note: `key ${apiKey}`,
      err: new Error('boom'),
    });
    const before = JSON.stringify({ ...fields, err: undefined });
    const { record } = logOne(fields as unknown as Record<string, unknown>, { paths: ['nested.keep[*].ok'] });
    expect(record).toMatchObject({
      user: { password: '[REDACTED]' },
      nested: { keep: [{ token: '[REDACTED]', ok: '[REDACTED]' }] },
    });
    expect(JSON.stringify({ ...fields, err: undefined })).toBe(before);
    expect(nested.keep[0]).toEqual({ token: 't', ok: 1 });
    expect(Object.keys(fields.err)).toEqual([]);
  });

  it('returns untouched parts as they are (copy on write)', () => {
    const memory = createMemoryTransport();
    const logger = createLogger({ transports: [memory], logUncaught: false });
    const clean = { a: 1, b: { c: 'd' } };
    logger.info('m', { clean });
    expect(memory.records()[0]).toMatchObject({ clean });
  });

  it('rejects paths it cannot parse and option values of the wrong type', () => {
    const make = (redact: RedactOptions) => () =>
      createLogger({ transports: [], logUncaught: false, redact });
    expect(make({ paths: ['a..b'] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(make({ paths: ['.a'] })).toThrow(/redact.paths/);
    expect(make({ paths: [''] })).toThrow(/redact.paths/);
    expect(make({ paths: ['a[x]'] })).toThrow(/redact.paths/);
    expect(make({ keys: [1 as never] })).toThrow(/redact.keys/);
    expect(make({ patterns: ['x' as never] })).toThrow(/redact.patterns/);
    expect(make({ censor: 1 as never })).toThrow(/redact.censor/);
  });

  it('survives values that throw while being read, writing the line without its fields', () => {
    const memory = createMemoryTransport();
    const failures: Error[] = [];
    const logger = createLogger({
      transports: [memory],
      logUncaught: false,
      onError: (e) => failures.push(e),
    });
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    const badJson = {
      toJSON: () => {
        throw new Error('toJSON exploded');
      },
    };
    expect(() => logger.info(`hostile ${apiKey}`, { hostile })).not.toThrow();
    expect(() => logger.info('hostile again', { badJson })).not.toThrow();
    const [first, second] = memory.records();
    expect(first).toMatchObject({ message: `hostile ${redactedKey}`, serialize_error: 'getter exploded' });
    expect(second).toMatchObject({ message: 'hostile again', serialize_error: 'toJSON exploded' });
    expect(failures.map((e) => (e as { code?: string }).code)).toEqual(['SERIALIZE_FAILED']);
  });
});
