/**
 * Probes answered on the node http.Server itself, before the framework sees the request: no
 * middleware (auth, rate limits, body parsers, request logs) runs for them, and a probe storm costs
 * what node's http parser costs rather than what a framework's router costs. The same responder as
 * the routes answers, so the answers are byte for byte the same.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { HealthError } from './errors';
import type { ProbeResponder } from './routes';
import type { ProbeName, ProbeRequest } from './types';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The `http.Server` methods `serveProbes` needs (https.Server fits too). */
export type RequestEmitter = Pick<Server, 'listeners' | 'removeListener' | 'on'>;

/**
 * Puts the probes in front of the server's other request listeners (the framework's handler); every
 * other request goes to them unchanged. Returns a function that puts things back.
 */
export function serveProbesOn(server: RequestEmitter, responder: ProbeResponder): () => void {
  if (typeof server?.listeners !== 'function' || typeof server.on !== 'function') {
    throw new HealthError('INVALID_OPTIONS', 'serveProbes needs a node http.Server (or https.Server)');
  }
  const byPath = new Map<string, ProbeName>(
    (Object.entries(responder.paths) as Array<[ProbeName, string]>).map(([probe, path]) => [path, probe]),
  );
  const originals = server.listeners('request') as RequestListener[];
  for (const listener of originals) server.removeListener('request', listener);
  const dispatch: RequestListener = (req, res) => {
    const probe = req.method === 'GET' || req.method === 'HEAD' ? byPath.get(pathOf(req.url)) : undefined;
    if (probe === undefined) {
      for (const listener of originals) listener.call(server, req, res);
      return;
    }
    responder.respond(probe, rawRequest(req)).then(
      (answer) => {
        res.writeHead(answer.status, answer.headers);
        res.end(req.method === 'HEAD' ? undefined : answer.body);
      },
      () => {
        // The responder does not reject; if it ever does, fail the probe rather than hang it.
        if (!res.headersSent) res.writeHead(503, { 'cache-control': 'no-store' });
        res.end();
      },
    );
  };
  server.on('request', dispatch);
  return () => {
    server.removeListener('request', dispatch);
    for (const listener of originals) server.on('request', listener);
  };
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function rawRequest(req: IncomingMessage): ProbeRequest {
  return {
    path: pathOf(req.url),
    remoteAddress: req.socket?.remoteAddress,
    header(name) {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
