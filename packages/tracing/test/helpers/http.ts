import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A plain node:http GET (not fetch: the test's own calls must not be traced by the fetch instrumentation). */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A downstream service on loopback that remembers the trace headers of every request it got. */
export async function startUpstream(): Promise<{
  url: string;
  received: IncomingHttpHeaders[];
  close(): Promise<void>;
}> {
  const received: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    received.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ nodes: 3 }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits (bounded) until `find` locates a span among the finished ones. */
export async function waitForSpan(
  spans: () => ReadableSpan[],
  find: (span: ReadableSpan) => boolean,
  timeoutMs = 3000,
): Promise<ReadableSpan> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const span = spans().find(find);
    if (span !== undefined) return span;
    if (Date.now() > deadline) {
      throw new Error(
        `span not found; finished: ${
          spans()
            .map((s) => s.name)
            .join(', ') || '(none)'
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const idOf = (span: ReadableSpan) => span.spanContext().spanId;
export const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
