/**
 * A one-line description of a thrown value for a check's `output`. Duck-typed rather than
 * `instanceof`, because errors from another realm (a VM context, a test sandbox) are not instances
 * of this realm's Error. Connection errors from Node's dual-stack connect are AggregateErrors with
 * an empty message, so codes and inner errors are used.
 */
export function describeError(error: unknown, depth = 0): string {
  if (typeof error === 'string' && error !== '') return error;
  if (typeof error !== 'object' || error === null || depth > 3) return 'check failed';
  const { message, code, name, cause, errors } = error as {
    message?: unknown;
    code?: unknown;
    name?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  const text = typeof message === 'string' ? message : '';
  if (Array.isArray(errors) && errors.length > 0) {
    const inner = [...new Set(errors.map((e: unknown) => describeError(e, depth + 1)))].join('; ');
    return text ? `${text}: ${inner}` : inner;
  }
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause.
  if (text && typeof cause === 'object' && cause !== null)
    return `${text}: ${describeError(cause, depth + 1)}`;
  if (text) return text;
  if (typeof code === 'string') return code;
  if (typeof name === 'string' && name !== '') return name;
  return 'check failed';
}
