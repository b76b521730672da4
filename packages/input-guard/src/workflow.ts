/**
 * `SecureWorkflowInput`: the schema for the examples' domain, a workflow builder where users own
 * workflows made of typed nodes. Node types are allow-listed (a `variant` on `type`), each type's
 * config has its own checks, free text goes through `safeText()`, identifiers and paths through
 * the strict detectors, and code nodes through `codeSafety()` (run them with `runSandboxed`).
 */
import * as v from 'valibot';
import { codeSafety, noPathTraversal, noXss, safeText } from './actions';

/** Node types a workflow may contain. */
export const WORKFLOW_NODE_TYPES = [
  'trigger',
  'http',
  'transform',
  'code',
  'email',
  'query',
  'file',
  'delay',
] as const;
export type WorkflowNodeType = (typeof WORKFLOW_NODE_TYPES)[number];

const NodeId = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'Node ids are 1-64 letters, digits, _ or -'),
);
/** A SQL-style identifier: table and column names never come from free text. */
const Identifier = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'Expected an identifier'));
const Label = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1),
  v.maxLength(120),
  safeText({ level: 'balanced', allowNewlines: false }),
);
const HeaderName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'Expected an HTTP header name'),
);
// Header values must not carry line breaks (response splitting) or injections.
const HeaderValue = v.pipe(
  v.string(),
  v.maxLength(1000),
  safeText({ level: 'balanced', allowNewlines: false }),
);

const HttpUrl = v.pipe(
  v.string(),
  v.maxLength(2048),
  v.url('Expected an absolute URL'),
  v.check((value) => /^https?:$/i.test(new URL(value).protocol), 'Only http and https URLs are allowed'),
  v.check(
    (value) => new URL(value).username === '' && new URL(value).password === '',
    'URLs must not carry credentials',
  ),
  noXss({ level: 'balanced' }),
);

const nodeBase = {
  id: NodeId,
  name: v.optional(Label),
};

const TriggerNode = v.object({
  ...nodeBase,
  type: v.literal('trigger'),
  config: v.variant('kind', [
    v.object({ kind: v.literal('manual') }),
    v.object({
      kind: v.literal('schedule'),
      // Five cron fields of digits and * , - /
      cron: v.pipe(
        v.string(),
        v.regex(/^[\d*,/-]+(?: [\d*,/-]+){4}$/, 'Expected a five-field cron expression'),
      ),
    }),
    v.object({
      kind: v.literal('webhook'),
      path: v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9/_-]{1,200}$/, 'Expected a simple URL path'),
        noPathTraversal({ level: 'balanced' }),
      ),
    }),
  ]),
});

const HttpNode = v.object({
  ...nodeBase,
  type: v.literal('http'),
  config: v.object({
    method: v.picklist(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    url: HttpUrl,
    headers: v.optional(
      v.pipe(
        v.record(HeaderName, HeaderValue),
        v.check((h) => Object.keys(h).length <= 50, 'At most 50 headers'),
      ),
    ),
    body: v.optional(
      v.pipe(v.string(), v.maxLength(100_000), safeText({ kinds: ['xss', 'command'], maxLength: 100_000 })),
    ),
    timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(30_000))),
  }),
});

const TransformNode = v.object({
  ...nodeBase,
  type: v.literal('transform'),
  config: v.object({
    // `{{input.name}}`-style templates: plain paths are fine, computing expressions are not.
    template: v.pipe(v.string(), v.maxLength(10_000), safeText({ maxLength: 10_000 })),
  }),
});

const CodeNode = v.object({
  ...nodeBase,
  type: v.literal('code'),
  config: v.object({
    language: v.optional(v.literal('javascript'), 'javascript'),
    code: v.pipe(v.string(), v.maxLength(50_000), codeSafety()),
    timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5_000)), 1_000),
    memoryBytes: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1024 * 1024), v.maxValue(64 * 1024 * 1024)),
      16 * 1024 * 1024,
    ),
  }),
});

const EmailNode = v.object({
  ...nodeBase,
  type: v.literal('email'),
  config: v.object({
    to: v.pipe(v.array(v.pipe(v.string(), v.maxLength(254), v.email())), v.minLength(1), v.maxLength(20)),
    // Subjects are headers: no line breaks (header injection).
    subject: v.pipe(v.string(), v.maxLength(200), safeText({ allowNewlines: false })),
    body: v.pipe(v.string(), v.maxLength(50_000), safeText({ maxLength: 50_000 })),
  }),
});

const QueryNode = v.object({
  ...nodeBase,
  type: v.literal('query'),
  config: v.object({
    table: Identifier,
    columns: v.optional(v.pipe(v.array(Identifier), v.maxLength(50))),
    // Values are bound as parameters by the runtime; they are still checked so logs and admin
    // screens never show an attack.
    where: v.optional(
      v.pipe(
        v.record(
          Identifier,
          v.union([
            v.pipe(v.string(), v.maxLength(1000), safeText({ level: 'balanced' })),
            v.number(),
            v.boolean(),
          ]),
        ),
        v.check((w) => Object.keys(w).length <= 20, 'At most 20 conditions'),
      ),
    ),
    limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 100),
  }),
});

const FileNode = v.object({
  ...nodeBase,
  type: v.literal('file'),
  config: v.object({
    operation: v.picklist(['read', 'write']),
    // Relative to the workflow's own storage: no traversal, no absolute paths.
    path: v.pipe(v.string(), v.minLength(1), v.maxLength(255), noPathTraversal({ level: 'strict' })),
  }),
});

const DelayNode = v.object({
  ...nodeBase,
  type: v.literal('delay'),
  config: v.object({ seconds: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400)) }),
});

/** One node of a workflow; `type` selects the config schema. */
export const WorkflowNode = v.variant('type', [
  TriggerNode,
  HttpNode,
  TransformNode,
  CodeNode,
  EmailNode,
  QueryNode,
  FileNode,
  DelayNode,
]);

const Edge = v.object({ from: NodeId, to: NodeId });

/**
 * The body of "create/update a workflow": name, description, nodes (allow-listed types with
 * per-type checks, code passed through the code-safety check) and edges between them.
 *
 * @example
 * ```ts
 * const result = v.safeParse(SecureWorkflowInput, {
 *   name: 'Nightly report',
 *   nodes: [{ id: 'start', type: 'trigger', config: { kind: 'schedule', cron: '0 3 * * *' } }],
 * });
 * ```
 */
export const SecureWorkflowInput = v.pipe(
  v.object({
    name: Label,
    description: v.optional(v.pipe(v.string(), v.maxLength(2000), safeText({ maxLength: 2000 })), ''),
    nodes: v.pipe(v.array(WorkflowNode), v.minLength(1), v.maxLength(100)),
    edges: v.optional(v.pipe(v.array(Edge), v.maxLength(500)), []),
  }),
  v.check(
    (workflow) => new Set(workflow.nodes.map((n) => n.id)).size === workflow.nodes.length,
    'Node ids must be unique',
  ),
  v.forward(
    v.check((workflow) => {
      const ids = new Set(workflow.nodes.map((n) => n.id));
      return workflow.edges.every((e) => ids.has(e.from) && ids.has(e.to));
    }, 'Edges must connect existing nodes'),
    ['edges'],
  ),
);

/** A workflow that passed `SecureWorkflowInput`. */
export type SecureWorkflow = v.InferOutput<typeof SecureWorkflowInput>;
/** One validated node. */
export type SecureWorkflowNode = v.InferOutput<typeof WorkflowNode>;
