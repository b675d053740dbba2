// Starts a private RabbitMQ node (Debian's rabbitmq-server, see scripts/ci-setup.d/20-rabbitmq.sh) on free
// loopback ports in a temporary directory, so tests can stop and restart the broker mid-test. Its own epmd
// port keeps it apart from any other Erlang node on the machine; stop() sends SIGTERM (a clean shutdown).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { freePort, waitForPort } from './ports.js';

const SERVER = process.env.RABBITMQ_SERVER_BIN ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';

export function rabbitmqAvailable(): boolean {
  return existsSync(SERVER);
}

export class RabbitNode {
  private child?: ChildProcess;
  private exited = true;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly distPort: number,
    private readonly epmdPort: number,
  ) {}

  /**
   * `alsoListenOn`: one more local address for the same port (a second `listeners.tcp`), e.g. the e2e node's
   * gateway IP, the one host address pods reach; `urlAt(address)` is the URL to give them.
   */
  static async start(opts: { alsoListenOn?: string; vhost?: string } = {}): Promise<RabbitNode> {
    if (!rabbitmqAvailable()) throw new Error(`${SERVER} not found: run scripts/ci-setup.d/20-rabbitmq.sh (installs Debian's rabbitmq-server)`);
    const dir = mkdtempSync(join(tmpdir(), 'asya-rabbit-'));
    const node = new RabbitNode(dir, await freePort(), await freePort(), await freePort());
    node.extraAddress = opts.alsoListenOn;
    for (const d of ['home', 'mnesia', 'log']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    // loopback_users = none: guest may log in (we listen on 127.0.0.1, and at most one more local address).
    const extra = opts.alsoListenOn ? `listeners.tcp.2 = ${opts.alsoListenOn}:${node.port}\n` : '';
    // `vhost`: the only virtual host, created at first boot with guest's permissions; "/" then does not exist,
    // so a client that ignores the vhost cannot log in.
    const vhost = opts.vhost ? `default_vhost = ${opts.vhost}\n` : '';
    writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${node.port}\n${extra}${vhost}loopback_users = none\n`);
    await node.boot();
    return node;
  }

  /** The address given as `alsoListenOn`, if any. */
  extraAddress?: string;

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** The URL through another address the node listens on (`alsoListenOn`). */
  urlAt(address: string): string {
    return `amqp://guest:guest@${address}:${this.port}`;
  }

  private env(): NodeJS.ProcessEnv {
    const d = this.dir;
    return {
      PATH: process.env.PATH,
      HOME: join(d, 'home'),
      LANG: 'C.UTF-8',
      RABBITMQ_NODENAME: `asya${this.port}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      ERL_EPMD_PORT: String(this.epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: join(d, 'log'),
      RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(d, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(d, 'rabbit.pid'),
      RABBITMQ_CONF_ENV_FILE: join(d, 'no-env-file'),
    };
  }

  private async boot(): Promise<void> {
    const child = spawn(SERVER, [], { env: this.env(), stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = false;
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('exit', () => (this.exited = true));
    try {
      await waitForPort(this.port, 90_000, () => !this.exited);
    } catch (err) {
      throw new Error(`RabbitMQ did not start: ${(err as Error).message}\n${stderr}\n${this.logTail()}`);
    }
  }

  private logTail(): string {
    try {
      return readFileSync(join(this.dir, 'log', `asya${this.port}@localhost.log`), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  }

  /** Clean shutdown (SIGTERM); resolves when the node has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(timer);
  }

  /** Same data directory and ports: durable queues survive. */
  async restart(): Promise<void> {
    await this.stop();
    await this.boot();
  }

  async destroy(): Promise<void> {
    await this.stop();
    // The node started its own epmd on a private port; end it so nothing outlives the test.
    spawnSync('epmd', ['-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(this.epmdPort) }, stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `fn` on a fresh channel of `conn` (a failed check closes a channel: each call gets its own). */
export async function withChannel<T>(conn: amqp.ChannelModel, fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    return await fn(ch);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** Messages waiting in `queue` (ready, not delivered), or undefined when it does not exist. */
export const queueDepth = (conn: amqp.ChannelModel, queue: string): Promise<number | undefined> =>
  withChannel(conn, (ch) => ch.checkQueue(queue)).then((r) => r.messageCount, () => undefined);

export const queueExists = (conn: amqp.ChannelModel, queue: string): Promise<boolean> => withChannel(conn, (ch) => ch.checkQueue(queue)).then(() => true, () => false);
