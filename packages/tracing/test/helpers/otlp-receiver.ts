/**
 * A real OTLP/HTTP trace receiver for tests: accepts POST /v1/traces in protobuf or JSON, decodes the
 * payload (protobuf with a small wire-format reader, JSON as OTLP/JSON) into plain spans.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  resource: Record<string, unknown>;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: string[];
  status: { code: number; message: string };
}

export interface ReceivedExport {
  path: string;
  headers: IncomingHttpHeaders;
  spans: ReceivedSpan[];
}

// ---- protobuf wire format --------------------------------------------------------------------

type Field = bigint | Uint8Array;
type Message = Map<number, Field[]>;

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function decode(buf: Uint8Array): Message {
  const message: Message = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: Field;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 1) {
      value = Buffer.from(buf.subarray(pos, pos + 8)).readBigUInt64LE();
      pos += 8;
    } else if (wire === 5) {
      value = BigInt(Buffer.from(buf.subarray(pos, pos + 4)).readUInt32LE());
      pos += 4;
    } else if (wire === 2) {
      const [length, afterLength] = readVarint(buf, pos);
      value = buf.subarray(afterLength, afterLength + Number(length));
      pos = afterLength + Number(length);
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = message.get(field) ?? [];
    list.push(value);
    message.set(field, list);
  }
  return message;
}

const bytes = (m: Message, field: number) =>
  (m.get(field)?.[0] as Uint8Array | undefined) ?? new Uint8Array();
const messages = (m: Message, field: number) => (m.get(field) ?? []).map((v) => decode(v as Uint8Array));
const text = (m: Message, field: number) => Buffer.from(bytes(m, field)).toString('utf8');
const hex = (m: Message, field: number) => Buffer.from(bytes(m, field)).toString('hex');
const int = (m: Message, field: number) => Number((m.get(field)?.[0] as bigint | undefined) ?? 0n);

function anyValue(m: Message): unknown {
  if (m.has(1)) return text(m, 1);
  if (m.has(2)) return int(m, 2) === 1;
  if (m.has(3)) return Number(BigInt.asIntN(64, m.get(3)![0] as bigint));
  if (m.has(4)) {
    const raw = Buffer.alloc(8);
    raw.writeBigUInt64LE(m.get(4)![0] as bigint);
    return raw.readDoubleLE();
  }
  if (m.has(5)) return messages(decode(bytes(m, 5)), 1).map(anyValue);
  return undefined;
}

function protoAttributes(list: Message[]): Record<string, unknown> {
  return Object.fromEntries(list.map((kv) => [text(kv, 1), anyValue(decode(bytes(kv, 2)))]));
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of messages(decode(body), 1)) {
    const resource = protoAttributes(messages(decode(bytes(resourceSpans, 1)), 1));
    for (const scopeSpans of messages(resourceSpans, 2)) {
      const scope = text(decode(bytes(scopeSpans, 1)), 1);
      for (const span of messages(scopeSpans, 2)) {
        const status = decode(bytes(span, 15));
        spans.push({
          resource,
          scope,
          traceId: hex(span, 1),
          spanId: hex(span, 2),
          parentSpanId: hex(span, 4),
          name: text(span, 5),
          kind: int(span, 6),
          attributes: protoAttributes(messages(span, 9)),
          events: messages(span, 11).map((event) => text(event, 2)),
          status: { code: int(status, 3), message: text(status, 2) },
        });
      }
    }
  }
  return spans;
}

// ---- OTLP/JSON -------------------------------------------------------------------------------

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

function jsonValue(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('arrayValue' in value) {
    return ((value.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(jsonValue);
  }
  return undefined;
}

const jsonAttributes = (list: JsonKeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));

function fromJson(body: Buffer): ReceivedSpan[] {
  const payload = JSON.parse(body.toString('utf8')) as {
    resourceSpans: Array<{
      resource: { attributes: JsonKeyValue[] };
      scopeSpans: Array<{
        scope: { name: string };
        spans: Array<{
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind: number;
          attributes?: JsonKeyValue[];
          events?: Array<{ name: string }>;
          status?: { code?: number; message?: string };
        }>;
      }>;
    }>;
  };
  return payload.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((span) => ({
        resource: jsonAttributes(rs.resource.attributes),
        scope: ss.scope.name,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: jsonAttributes(span.attributes),
        events: (span.events ?? []).map((event) => event.name),
        status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
      })),
    ),
  );
}

// ---- the receiver ----------------------------------------------------------------------------

export async function startOtlpReceiver(): Promise<{
  origin: string;
  url: string;
  exports: ReceivedExport[];
  close(): Promise<void>;
}> {
  const exports: ReceivedExport[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = req.headers['content-type'] ?? '';
      try {
        const spans = type.includes('json') ? fromJson(body) : fromProtobuf(body);
        exports.push({ path: req.url ?? '', headers: req.headers, spans });
        res.writeHead(200, { 'content-type': type });
        res.end(type.includes('json') ? '{}' : undefined);
      } catch (error) {
        res.writeHead(400);
        res.end(String(error));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}/v1/traces`,
    exports,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
