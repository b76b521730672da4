/**
 * One system under test, in its own process (the load generator runs in the parent):
 * `node --import tsx probe-server.ts <system> <local|services>`. Tells the parent its probe URL over
 * IPC and answers `stats` with how many times the checks ran.
 */
import type { AddressInfo } from 'node:net';
import { createTerminus } from '@godaddy/terminus';
import { createHealth } from '@plat/health';
import { healthProbes as expressProbes } from '@plat/health/express';
import { healthProbes as fastifyProbes } from '@plat/health/fastify';
import express from 'express';
import Fastify from 'fastify';
import { createLightship } from 'lightship';
import { type CheckMode, createCheckSet } from './checks';

const [system, mode] = process.argv.slice(2) as [string, CheckMode];
const checks = await createCheckSet(mode);
const send = (message: unknown) => process.send?.(message);
process.on('message', (message) => {
  if (message !== 'stats') return;
  const cpu = process.cpuUsage();
  send({ checkRuns: checks.runs, cpuMicros: cpu.user + cpu.system });
});

/** What a careful user adds to terminus: reuse a result for 1 s, one run at a time. */
function cachedFor(ttlMs: number, check: () => Promise<void>): () => Promise<void> {
  let last: { at: number; outcome: Promise<void> } | undefined;
  return () => {
    const now = Date.now();
    if (last === undefined || now - last.at > ttlMs) {
      const outcome = check();
      outcome.catch(() => {});
      last = { at: now, outcome };
    }
    return last.outcome;
  };
}

async function listenExpress(app: express.Express, wrap?: (server: import('node:http').Server) => void) {
  const server = app.listen(0, '127.0.0.1');
  wrap?.(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

let url: string;
if (system === '@plat/health healthProbes (express)') {
  const health = createHealth({ eventLoop: false, checks: checks.platChecks() });
  const app = express();
  app.use(expressProbes(health));
  url = `http://127.0.0.1:${await listenExpress(app)}/health/ready`;
} else if (system === '@plat/health serveProbes (express server)') {
  const health = createHealth({ eventLoop: false, checks: checks.platChecks() });
  const port = await listenExpress(express(), (server) => {
    health.serveProbes(server);
  });
  url = `http://127.0.0.1:${port}/health/ready`;
} else if (system === '@plat/health healthProbes (fastify)') {
  const health = createHealth({ eventLoop: false, checks: checks.platChecks() });
  const app = Fastify();
  await app.register(fastifyProbes(health));
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/health/ready`;
} else if (system === 'terminus (express)' || system === 'terminus + 1 s cache (express)') {
  const check = system.startsWith('terminus +')
    ? cachedFor(1000, () => checks.checkAll())
    : () => checks.checkAll();
  const port = await listenExpress(express(), (server) => {
    createTerminus(server, { healthChecks: { '/health/ready': check }, signals: [] });
  });
  url = `http://127.0.0.1:${port}/health/ready`;
} else if (system === 'lightship (1 s poll)') {
  // Lightship answers from a flag; the checks run on a timer and set it.
  const lightship = await createLightship({ detectKubernetes: false, port: 0, signals: [] });
  const poll = () => checks.checkAll().then(lightship.signalReady, lightship.signalNotReady);
  await poll();
  setInterval(poll, 1000);
  await new Promise<void>((resolve) => {
    if (lightship.server.listening) resolve();
    else lightship.server.once('listening', () => resolve());
  });
  url = `http://127.0.0.1:${(lightship.server.address() as AddressInfo).port}/ready`;
} else {
  throw new Error(`unknown system ${system}`);
}
send({ url });
