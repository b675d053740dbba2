// moto's SQS emulator on a free loopback port (scripts/ci-setup.d/30-sqs-emulator.sh installs it).
// `start({ host })` binds another local address instead, e.g. the e2e node's gateway IP, which pods and host
// processes both reach (moto listens on one address only). stop() then resume() is an emulator restart on the
// same endpoint (it comes back empty).
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './ports.js';

export interface MotoOptions {
  /** Address to bind (default 127.0.0.1); `endpoint` uses it. */
  host?: string;
}

export class MotoServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly host: string,
  ) {}

  static async start(opts: MotoOptions = {}): Promise<MotoServer> {
    const moto = new MotoServer(await freePort(), opts.host ?? '127.0.0.1');
    await moto.resume();
    return moto;
  }

  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Starts the emulator (again) on its address. */
  async resume(): Promise<void> {
    const child = spawn(process.env.MOTO_SERVER_BIN ?? 'moto_server', ['-H', this.host, '-p', String(this.port)], { stdio: 'ignore' });
    this.child = child;
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    await waitForPort(this.port, 30_000, () => !exited, this.host);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
}
