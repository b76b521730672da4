import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealth, type Health } from '../src';
import { recordingLogger } from './support/logger';

describe('health.serveProbes on a raw http.Server', () => {
  let health: Health;
  let server: Server;
  let url: string;
  const appSaw: string[] = [];
  beforeAll(async () => {
    health = createHealth({ eventLoop: false, logger: recordingLogger() });
    server = createServer((req, res) => {
      appSaw.push(`${req.method} ${req.url}`);
      res.statusCode = 418;
      res.end('app');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    health.close();
    server.closeAllConnections();
    server.close();
  });

  it('answers probes itself and hands everything else to the app; detaching restores the app', async () => {
    const seen: string[] = [];
    const detach = health.serveProbes(server, {
      paths: { readiness: '/ready' },
      details: (request) => {
        seen.push(`${request.path} ${request.header('X-Caller')} ${request.remoteAddress}`);
        return 'none';
      },
    });
    const ready = await fetch(`${url}/ready?x=1`, { headers: { 'x-caller': 'kubelet' } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toBe('application/health+json');
    expect(await ready.text()).toBe('{"status":"pass"}');
    expect(seen).toEqual(['/ready kubelet 127.0.0.1']);
    expect(appSaw).toEqual([]);

    const other = await fetch(`${url}/health/ready`); // the default path was replaced
    expect(other.status).toBe(418);
    const post = await fetch(`${url}/ready`, { method: 'POST' });
    expect(post.status).toBe(418);
    expect(appSaw).toEqual(['GET /health/ready', 'POST /ready']);

    detach();
    expect(server.listenerCount('request')).toBe(1);
    expect((await fetch(`${url}/ready`)).status).toBe(418);
  });

  it('refuses what is not a server', () => {
    expect(() => health.serveProbes({} as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => health.serveProbes(server, { paths: { liveness: 'live' } })).toThrow(/paths.liveness/);
    expect(() => health.serveProbes(server, { details: 'all' as never })).toThrow(/details/);
  });
});
