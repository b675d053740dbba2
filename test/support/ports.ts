// Loopback ports for the processes tests start. Imports only node built-ins: the e2e control plane and node
// (loaded natively by Node, types stripped) use it too.
import net from 'node:net';

/** `n` distinct TCP ports free on loopback right now (all held at once, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** Waits until `host:port` accepts connections; fails early when `isAlive` says the process is gone. */
export async function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean = () => true, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`process exited before ${host}:${port} opened`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${host}:${port} did not open within ${timeoutMs} ms`);
}
