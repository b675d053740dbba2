// Whether something answers a TCP connect: the weakest probe `check` has of a broker it cannot log in to.
import net from 'node:net';

/** undefined when the connection opened; else why not. */
export function tcpProbe(host: string, port: number, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (err?: string) => {
      s.destroy();
      resolve(err);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000}s`));
    s.once('connect', () => done());
    s.once('error', (e: NodeJS.ErrnoException) => done(`${e.code ?? ''} ${e.message}`.trim()));
  });
}
