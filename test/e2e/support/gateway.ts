// A recording stand-in for upstream's Asya gateway (not part of this project): the real sidecars report to it
// what happened to each envelope (`ASYA_GATEWAY_URL`, from the operator configuration's gatewayURL). The end
// actors' sidecars POST the final outcome, `/envelopes/<id>/final`, with the result payload or the error;
// every actor's sidecar POSTs `/envelopes/<id>/progress`. This is how a client of a pipeline learns the
// result, so the e2e tests read it here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './cluster.js';

export interface FinalReport {
  id: string;
  status: 'succeeded' | 'failed';
  result?: any;
  error?: string;
  error_details?: any;
  actors?: string[];
  current_actor_name?: string;
  [k: string]: unknown;
}

export interface ProgressReport {
  actors?: string[];
  current_actor_idx?: number;
  status?: string;
  message?: string;
  [k: string]: unknown;
}

export interface Gateway {
  url: string;
  finals: Map<string, FinalReport[]>;
  progress: Map<string, ProgressReport[]>;
  /** Waits for the final report of envelope `id`. */
  final(id: string, timeoutMs?: number): Promise<FinalReport>;
  stop(): Promise<void>;
}

export async function startGateway(host: string): Promise<Gateway> {
  const finals = new Map<string, FinalReport[]>();
  const progress = new Map<string, ProgressReport[]>();
  const push = <T>(m: Map<string, T[]>, id: string, v: T) => m.set(id, [...(m.get(id) ?? []), v]);
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const m = /^\/envelopes\/([^/]+)\/(final|progress)$/.exec(req.url ?? '');
      if (req.method === 'GET' && req.url === '/health') {
        res.writeHead(200).end('ok');
        return;
      }
      if (req.method === 'POST' && m) {
        let parsed: any;
        try {
          parsed = JSON.parse(body);
        } catch {
          res.writeHead(400).end();
          return;
        }
        const id = decodeURIComponent(m[1]!);
        if (m[2] === 'final') push(finals, id, parsed as FinalReport);
        else push(progress, id, parsed as ProgressReport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      // Fan-out envelopes (POST /envelopes): accepted, not recorded.
      res.writeHead(req.method === 'POST' ? 201 : 404).end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    finals,
    progress,
    final: (id, timeoutMs = 120_000) => waitFor(`the final report of envelope ${id}`, async () => finals.get(id)?.[0], timeoutMs, 250),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
