import { CoreError, isPlatError, PlatError, statusTable, toProblem } from '../src';

const Codes = { NOT_FOUND: 'NOT_FOUND', OVERLOADED: 'OVERLOADED', BROKEN: 'BROKEN' } as const;
type Code = (typeof Codes)[keyof typeof Codes];
class DemoError extends PlatError<Code> {
  override readonly name = 'DemoError';
}
const statusOf = statusTable({ NOT_FOUND: 404, OVERLOADED: 503, BROKEN: 500 });

describe('PlatError', () => {
  it('carries a typed code, details and the cause', () => {
    const cause = new Error('socket closed');
    const error = new DemoError('NOT_FOUND', 'No stream s-1', { cause, details: { streamId: 's-1' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DemoError');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({
      name: 'DemoError',
      code: 'NOT_FOUND',
      message: 'No stream s-1',
      details: { streamId: 's-1' },
    });
    expect(isPlatError(error)).toBe(true);
    expect(isPlatError(error, 'NOT_FOUND')).toBe(true);
    expect(isPlatError(error, 'OTHER')).toBe(false);
  });

  it('is recognised from another copy of @plat/core by its brand', () => {
    jest.isolateModules(() => {
      // A second module instance stands in for a second installed copy of the package.
      const other = require('../src/errors') as typeof import('../src/errors');
      const foreign = new other.PlatError('X', 'from the other copy');
      expect(foreign).not.toBeInstanceOf(PlatError);
      expect(isPlatError(foreign, 'X')).toBe(true);
    });
    expect(isPlatError(new Error('plain'))).toBe(false);
    expect(isPlatError({ code: 'NOT_FOUND' })).toBe(false);
    expect(isPlatError(null)).toBe(false);
  });
});

describe('toProblem (RFC 9457)', () => {
  it('maps a code to its status and keeps the details', () => {
    const p = toProblem(
      new DemoError('NOT_FOUND', 'No stream s-1', { details: { streamId: 's-1' } }),
      statusOf,
      '/s/1',
    );
    expect(p.status).toBe(404);
    expect(p.headers['content-type']).toBe('application/problem+json');
    expect(p.body).toEqual({
      type: 'urn:plat:problem:not-found',
      title: 'Not Found',
      status: 404,
      detail: 'No stream s-1',
      code: 'NOT_FOUND',
      instance: '/s/1',
      streamId: 's-1',
    });
  });

  it('adds Retry-After from retryAfterSeconds, and exposes 503 reasons', () => {
    const p = toProblem(
      new DemoError('OVERLOADED', 'Queue full', { details: { retryAfterSeconds: 1.2 } }),
      statusOf,
    );
    expect(p.status).toBe(503);
    expect(p.headers['retry-after']).toBe('2');
    expect(p.body.detail).toBe('Queue full');
  });

  it('hides messages and details of internal failures', () => {
    const internal = toProblem(
      new DemoError('BROKEN', 'password=hunter2 rejected', { details: { dsn: 'x' } }),
      statusOf,
    );
    expect(internal.status).toBe(500);
    expect(JSON.stringify(internal.body)).not.toContain('hunter2');
    expect(internal.body).not.toHaveProperty('dsn');
    const foreign = toProblem(new Error('stack secrets'));
    expect(foreign.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
  });

  it('never lets details overwrite the standard members', () => {
    const p = toProblem(
      new DemoError('NOT_FOUND', 'gone', { details: { status: 200, type: 'x' } }),
      statusOf,
    );
    expect(p.body.status).toBe(404);
    expect(p.body.type).toBe('urn:plat:problem:not-found');
  });

  it('knows the core codes without a table', () => {
    expect(toProblem(new CoreError('BODY_TOO_LARGE', 'too big')).status).toBe(413);
  });
});
