/**
 * A one-line description of a thrown value for a check's `output`. Connection errors from Node's
 * dual-stack connect are AggregateErrors with an empty message, so codes and inner errors are used.
 */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    const inner = [...new Set(error.errors.map(describeError))];
    return error.message ? `${error.message}: ${inner.join('; ')}` : inner.join('; ');
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause.
    if (error.message && error.cause instanceof Error)
      return `${error.message}: ${describeError(error.cause)}`;
    if (error.message) return error.message;
    if (typeof code === 'string') return code;
    return error.name;
  }
  if (typeof error === 'string' && error !== '') return error;
  return 'check failed';
}
