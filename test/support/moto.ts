// moto's SQS emulator on a free loopback port (scripts/ci-setup.d/30-sqs-emulator.sh installs it).
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './ports.js';

export class MotoServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<MotoServer> {
    const port = await freePort();
    const child = spawn(process.env.MOTO_SERVER_BIN ?? 'moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    await waitForPort(port, 30_000, () => !exited);
    return new MotoServer(child, port);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}
