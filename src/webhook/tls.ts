// Serving certificate from disk, reloaded when the files change (cert-manager rotates them in place).
// Mount the Secret as a directory, not with subPath: kubelet swaps a symlink in the directory, which
// fs.watch sees; a periodic re-read is the safety net for filesystems where watching misses it.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';

export interface CertPaths {
  certFile: string;
  keyFile: string;
}

export function certPathsFromDir(dir: string): CertPaths {
  return { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

export interface LoadedCert {
  cert: Buffer;
  key: Buffer;
  notAfter: Date;
  fingerprint: string;
}

/** Reads and checks a certificate/key pair; throws with a clear message when they don't belong together. */
export function loadCertPair(paths: CertPaths): LoadedCert {
  const cert = readFileSync(paths.certFile);
  const key = readFileSync(paths.keyFile);
  const x509 = new X509Certificate(cert);
  const privateKey = createPrivateKey(key);
  if (!x509.checkPrivateKey(privateKey)) throw new Error(`${paths.keyFile} is not the key of ${paths.certFile}`);
  return { cert, key, notAfter: new Date(x509.validTo), fingerprint: x509.fingerprint256 };
}

function digest(paths: CertPaths): string {
  const h = createHash('sha256');
  for (const f of [paths.certFile, paths.keyFile]) {
    try {
      h.update(readFileSync(f));
    } catch {
      h.update('missing');
    }
  }
  return h.digest('hex');
}

export interface CertWatcherEvents {
  onLoad(cert: LoadedCert): void;
  onError(err: Error): void;
}

/** Watches the certificate files; calls onLoad for every new valid pair (a half-written pair is retried). */
export class CertWatcher {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDigest = '';
  private debounce: NodeJS.Timeout | undefined;

  constructor(
    private readonly paths: CertPaths,
    private readonly events: CertWatcherEvents,
    private readonly pollMs = 10_000,
  ) {}

  /** Loads now (throws if the pair is unusable) and starts watching. */
  start(): LoadedCert {
    const first = loadCertPair(this.paths);
    this.lastDigest = digest(this.paths);
    for (const dir of new Set([dirname(this.paths.certFile), dirname(this.paths.keyFile)])) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // polling below still catches changes
      }
    }
    this.timer = setInterval(() => this.check(), this.pollMs);
    this.timer.unref();
    return first;
  }

  private schedule(): void {
    // Files of one rotation arrive as several events: settle first.
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.check(), 100);
    this.debounce.unref();
  }

  /** Re-reads the files if their content changed. Public for tests. */
  check(): void {
    const d = digest(this.paths);
    if (d === this.lastDigest) return;
    try {
      const loaded = loadCertPair(this.paths);
      this.lastDigest = d;
      this.events.onLoad(loaded);
    } catch (err) {
      // Keep serving the previous certificate; try again on the next event or poll.
      this.events.onError(err as Error);
    }
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
