// moto's SQS emulator on a free loopback port (scripts/ci-setup.d/30-sqs-emulator.sh installs it).
// `start({ host })` binds another local address instead, e.g. the e2e node's gateway IP, which pods and host
// processes both reach (moto listens on one address only).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort, waitForPort } from './ports.js';

export interface MotoOptions {
  /** Address to bind (default 127.0.0.1); `endpoint` uses it. */
  host?: string;
}

export class MotoServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly host: string = '127.0.0.1',
  ) {}

  static async start(opts: MotoOptions = {}): Promise<MotoServer> {
    const host = opts.host ?? '127.0.0.1';
    const port = await freePort();
    const child = spawn(process.env.MOTO_SERVER_BIN ?? 'moto_server', ['-H', host, '-p', String(port)], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    if (host === '127.0.0.1') await waitForPort(port, 30_000, () => !exited);
    else await waitForHostPort(host, port, 30_000, () => !exited);
    return new MotoServer(child, port, host);
  }

  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}

async function waitForHostPort(host: string, port: number, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`moto_server exited before ${host}:${port} opened`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, host);
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto_server: ${host}:${port} did not open within ${timeoutMs} ms`);
}
