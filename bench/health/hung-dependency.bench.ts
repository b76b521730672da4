/**
 * What each system's readiness says when a dependency stops answering (accepts the request, never
 * responds: a paused or overloaded server). A prober like the kubelet (timeoutSeconds: 2) asks every
 * 100 ms; we count how soon the pod is reported not ready, how many probes got no answer at all,
 * how many still said "ready" after the hang began, and how many calls pile up on the dependency.
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type BenchRow, printTable } from '../harness';
import { startProbeServer } from './probe-process';

const quick = process.env.PLAT_BENCH_QUICK === '1';
const OBSERVE_MS = quick ? 3000 : 6000;
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 2000;

const SYSTEMS = [
  'terminus (express)',
  'terminus + 1 s cache (express)',
  'lightship (1 s poll)',
  '@plat/health healthProbes (fastify)',
] as const;

type Outcome = { at: number; kind: 'ready' | 'not ready' | 'no answer' };

async function probe(url: string, hungAt: number): Promise<Outcome> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return { at: performance.now() - hungAt, kind: response.status === 200 ? 'ready' : 'not ready' };
  } catch {
    return { at: performance.now() - hungAt, kind: 'no answer' };
  }
}

export default async function run(): Promise<void> {
  // The dependency: answers 200 until told to hang, then holds every request open.
  let hanging = false;
  const held = new Set<ServerResponse>();
  const dependency = createServer((_req, res) => {
    if (!hanging) {
      res.end('ok');
      return;
    }
    held.add(res);
    res.on('close', () => held.delete(res));
  });
  dependency.listen(0, '127.0.0.1');
  await once(dependency, 'listening');
  const depUrl = `http://127.0.0.1:${(dependency.address() as AddressInfo).port}/healthz`;

  const rows: BenchRow[] = [];
  try {
    for (const system of SYSTEMS) {
      hanging = false;
      const server = await startProbeServer(system, `http:${depUrl}`, 'ignore');
      try {
        // Healthy first: every system says ready.
        for (let i = 0; i < 20; i++) {
          const ok = await probe(server.url, performance.now());
          if (ok.kind === 'ready') break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const heldBefore = held.size;
        hanging = true;
        const hungAt = performance.now();
        const outcomes: Array<Promise<Outcome>> = [];
        while (performance.now() - hungAt < OBSERVE_MS) {
          outcomes.push(probe(server.url, hungAt));
          await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
        }
        const results = await Promise.all(outcomes);
        const firstFailure = results.find((o) => o.kind !== 'ready');
        const firstAnswered503 = results.find((o) => o.kind === 'not ready');
        rows.push({
          system,
          metrics: {
            'not ready after ms': firstFailure === undefined ? 'never' : Math.round(firstFailure.at),
            'first 503 after ms': firstAnswered503 === undefined ? 'never' : Math.round(firstAnswered503.at),
            probes: results.length,
            'still "ready"': results.filter((o) => o.kind === 'ready').length,
            'no answer (2 s)': results.filter((o) => o.kind === 'no answer').length,
            'calls stuck on dependency': held.size - heldBefore,
          },
        });
      } finally {
        server.child.kill('SIGKILL');
        await once(server.child, 'exit').catch(() => {});
        for (const res of held) res.destroy();
      }
    }
  } finally {
    dependency.closeAllConnections();
    dependency.close();
  }
  printTable('readiness when a dependency hangs (accepts, never answers)', rows, {
    ratioOf: 'calls stuck on dependency',
    higherIsBetter: false,
    note:
      `A prober asks every ${PROBE_EVERY_MS} ms with a ${PROBE_TIMEOUT_MS / 1000} s timeout for ${OBSERVE_MS / 1000} s after the dependency hangs. ` +
      'Same check everywhere: GET the dependency, expect 200 (terminus and lightship by hand with fetch; ' +
      '@plat/health with httpCheck and its defaults: 1 s timeout, 1 s cache, 250 ms for failures, stale-while-refresh).',
  });
}
