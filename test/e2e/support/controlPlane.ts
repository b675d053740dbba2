/**
 * A real Kubernetes control plane for end-to-end tests, run from binaries that
 * scripts/e2e-tools.sh builds from Go modules (no Docker, no kubelet):
 *
 *   etcd -> kube-apiserver -> kube-controller-manager -> (optional) KEDA operator and metrics adapter
 *
 * Every process listens on free ports, works in a fresh temp dir and writes its
 * output to `<logDir>/<name>.log`. Everything listens on loopback except
 * kube-apiserver and KEDA's metrics adapter, which listen on all addresses so
 * that pods (at the node IP) reach the API server and the API server's
 * aggregation layer reaches the adapter at an endpoint address (an endpoint
 * may not be a loopback address). The node (node.ts) calls `publishOn(ip)`
 * once its address exists: the `kubernetes` Service's EndpointSlice, and the
 * APIService of external.metrics.k8s.io with its Service and EndpointSlice.
 *
 * Uses Node built-ins only, plus the `openssl` CLI for keys and certificates.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// .ts specifiers: this file is also loaded natively by Node (globalSetup.mjs, scripts/control-plane.ts); tsc rewrites them.
import { freePorts } from '../../support/ports.ts';
import { httpStatus, httpsGet, kill, mustRun, onExitOrSignal, procStartTime, run, sleep, spawnLogged, startWatchdog, tail, terminate, type ManagedProcess, type RunResult } from './processes.ts';

export interface ControlPlane {
  /** Fresh temp dir holding certs, etcd data, kubeconfig (and logs by default). */
  dir: string;
  /** Where each process's `<name>.log` is written. */
  logDir: string;
  /** Path of an admin kubeconfig (token of a `system:masters` user). */
  kubeconfig: string;
  /** `https://127.0.0.1:<port>` of kube-apiserver. */
  server: string;
  /** Bearer token of the admin user. */
  token: string;
  /** CA bundle that verifies the apiserver's serving certificate. */
  caFile: string;
  /** Dir the binaries were taken from. */
  binDir: string;
  /** The Service network (`--service-cluster-ip-range`); its first address is the `kubernetes` Service. */
  serviceCidr: string;
  /**
   * Publishes the API server and (with KEDA) the metrics adapter at `ip`, an address of this host (the node
   * IP): EndpointSlices of Services `default/kubernetes` and `keda/keda-metrics-apiserver`, and the APIService
   * `v1beta1.external.metrics.k8s.io`, once Available. Idempotent.
   */
  publishOn(ip: string): Promise<void>;
  /** Runs the cached kubectl against this cluster (or `opts.kubeconfig`). Never throws on a non-zero exit. */
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<RunResult>;
  /** Stops every process this control plane started and removes `dir` (unless ASYA_E2E_KEEP=1). */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Default: $ASYA_E2E_BIN_DIR, else what `scripts/e2e-tools.sh --print-bin-dir` prints. */
  binDir?: string;
  /** Start the KEDA operator and its metrics adapter (and install KEDA's CRDs). Default true. */
  withKeda?: boolean;
  /** Default: the control plane's temp dir. */
  logDir?: string;
}

const REPO_ROOT = path.resolve(path.dirname(decodeURIComponent(new URL(import.meta.url).pathname)), '../../..');
const REQUIRED_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;
/** The Service network of the e2e cluster; 10.0.0.1 is the `kubernetes` Service (KUBERNETES_SERVICE_HOST). */
export const SERVICE_CIDR = '10.0.0.0/24';
/** KEDA's metrics adapter Service and APIService, named as in KEDA's own config/metrics-server manifests. */
export const KEDA_METRICS_SERVICE = 'keda-metrics-apiserver';
export const EXTERNAL_METRICS_APISERVICE = 'v1beta1.external.metrics.k8s.io';
/** The HPA controller's period and downscale stabilization in the e2e cluster (defaults: 15 s and 5 min). */
export const HPA_SYNC_PERIOD = '2s';
export const HPA_DOWNSCALE_STABILIZATION = '10s';
const STOP_GRACE_MS = 5_000;
const HTTP_TIMEOUT_MS = 5_000;

/** A managed process failed to come up; `message` ends with the tail of its log. */
class StartError extends Error {
  readonly proc: ManagedProcess;
  constructor(proc: ManagedProcess, message: string) {
    super(message);
    this.name = 'StartError';
    this.proc = proc;
  }
}

/* ------------------------------------------------------------------------ */
/* Process bookkeeping shared by every control plane of this Node process.  */
/* ------------------------------------------------------------------------ */

const live = new Set<ManagedProcess>();
const liveDirs = new Set<string>();

function killAllNowSync(): void {
  for (const m of live) {
    if (!m.exited) kill(m.pid, 'SIGKILL');
  }
  live.clear();
  for (const dir of liveDirs) {
    // Tell the watchdog that there is nothing left to kill.
    try {
      fs.writeFileSync(path.join(dir, 'pids'), '');
    } catch {
      /* dir already gone */
    }
    if (process.env.ASYA_E2E_KEEP !== '1') {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        /* best effort: the watchdog retries */
      }
    }
  }
  liveDirs.clear();
}

/**
 * The watchdog of each control plane (startWatchdog), for when we are SIGKILLed: once our PID goes away it kills
 * the PIDs listed in `<dir>/pids` (checking each one's start time, so a recycled PID is never hit) and removes
 * the dir. Arguments: the dir, `1` to keep it.
 */
const WATCHDOG_ON_ORPHANED = `
      const [dir, keep] = [args[0], args[1] === '1'];
      const startTime = (pid) => {
        try {
          const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
        } catch { return undefined; }
      };
      let lines = [];
      try { lines = fs.readFileSync(dir + '/pids', 'utf8').split('\\n').filter(Boolean); } catch {}
      for (const line of lines) {
        const [pid, start] = line.split(' ');
        if (startTime(pid) === start) { try { process.kill(Number(pid), 'SIGKILL'); } catch {} }
      }
      if (!keep) setTimeout(() => { try { fs.rmSync(dir, { recursive: true, force: true }); } catch {} process.exit(0); }, 500);
      else process.exit(0);
`;

/* ------------------------------------------------------------------------ */
/* Small helpers.                                                           */
/* ------------------------------------------------------------------------ */

function resolveBinDir(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  if (process.env.ASYA_E2E_BIN_DIR) return path.resolve(process.env.ASYA_E2E_BIN_DIR);
  const script = path.join(REPO_ROOT, 'scripts', 'e2e-tools.sh');
  // Synchronous on purpose: this only prints a path.
  const r = spawnSync('bash', [script, '--print-bin-dir'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot resolve the e2e bin dir: ${script} --print-bin-dir failed: ${r.stderr}`);
  const dir = r.stdout.trim().split('\n').pop();
  if (!dir) throw new Error(`${script} --print-bin-dir printed nothing`);
  return dir;
}

/* ------------------------------------------------------------------------ */
/* The control plane.                                                       */
/* ------------------------------------------------------------------------ */

export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const withKeda = opts.withKeda ?? true;
  const binDir = resolveBinDir(opts.binDir);
  const needed = withKeda ? [...REQUIRED_BINARIES, 'keda-operator', 'keda-adapter'] : [...REQUIRED_BINARIES];
  const missing = needed.filter((b) => !fs.existsSync(path.join(binDir, b)));
  if (missing.length > 0) {
    throw new Error(
      `e2e binaries missing in ${binDir}: ${missing.join(', ')}.\n` +
        `Build them first (about 15 minutes cold): bash scripts/e2e-tools.sh`,
    );
  }
  const bin = (name: string): string => path.join(binDir, name);

  const keep = process.env.ASYA_E2E_KEEP === '1';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asya-e2e-'));
  const logDir = path.resolve(opts.logDir ?? dir);
  fs.mkdirSync(logDir, { recursive: true });
  const pidFile = path.join(dir, 'pids');
  fs.writeFileSync(pidFile, '');

  onExitOrSignal(killAllNowSync);
  liveDirs.add(dir);
  const started: ManagedProcess[] = [];
  const watchdog = startWatchdog(WATCHDOG_ON_ORPHANED, [dir, keep ? '1' : '0']);

  const launch = (name: string, args: string[], env: NodeJS.ProcessEnv = {}): ManagedProcess => {
    const m = spawnLogged(name, bin(name), args, { cwd: dir, env: { ...process.env, ...env }, logFile: path.join(logDir, `${name}.log`) });
    live.add(m);
    void m.exit.then(() => live.delete(m));
    started.push(m);
    fs.appendFileSync(pidFile, `${m.pid} ${procStartTime(m.pid) ?? ''}\n`);
    return m;
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const m of [...started].reverse()) await terminate(m, STOP_GRACE_MS);
    try {
      fs.writeFileSync(pidFile, '');
    } catch {
      /* ignore */
    }
    if (watchdog.pid !== undefined) kill(watchdog.pid, 'SIGKILL');
    liveDirs.delete(dir);
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  };

  const fail = (m: ManagedProcess, what: string): never => {
    const state = m.exited ? `exited (code ${m.exitCode}, signal ${m.exitSignal})` : 'still running';
    const kept = keep || opts.logDir ? '' : ' (removed with the temp dir: pass logDir or set ASYA_E2E_KEEP=1 to keep it)';
    throw new StartError(m, `${m.name} ${what}; process ${state}.\n--- last lines of ${m.logFile}${kept} ---\n${tail(m.logFile)}`);
  };

  /** Polls `check` until true; fails with the process's log tail on timeout or early exit. */
  const waitFor = async (m: ManagedProcess, what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (m.exited) return fail(m, `exited before ${what}`);
      if (await check()) return;
      if (m.exited) return fail(m, `exited before ${what}`);
      if (Date.now() > deadline) return fail(m, `not ${what} after ${timeoutMs / 1000}s`);
      await sleep(250);
    }
  };

  /**
   * Runs one start step on `n` fresh loopback ports. The ports are only
   * reserved, not held, so if another process took one in between the step is
   * retried (at most 3 times) on new ports.
   */
  const onFreePorts = async <T>(n: number, step: (ports: number[]) => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(n);
      try {
        return await step(ports);
      } catch (e) {
        if (!(e instanceof StartError) || attempt >= 3 || !/address already in use/i.test(tail(e.proc.logFile, 20))) throw e;
        await terminate(e.proc, STOP_GRACE_MS);
        started.splice(started.indexOf(e.proc), 1);
      }
    }
  };

  const t0 = Date.now();
  let adapterPort: number | undefined;
  try {
    /* ---- certificates and keys ---- */
    const pki = path.join(dir, 'pki');
    fs.mkdirSync(pki);
    const saKey = path.join(pki, 'sa.key');
    const saPub = path.join(pki, 'sa.pub');
    await mustRun('openssl', ['genrsa', '-out', saKey, '2048']);
    await mustRun('openssl', ['rsa', '-in', saKey, '-pubout', '-out', saPub]);

    // The aggregation layer: the API server proxies to aggregated APIs (KEDA's metrics adapter) with this client
    // certificate and the user in request headers, which the adapter trusts because of this CA (published in
    // ConfigMap kube-system/extension-apiserver-authentication).
    const frontProxy = path.join(pki, 'front-proxy');
    await makeCa(frontProxy, 'asya-e2e-front-proxy-ca');
    await signCert(frontProxy, 'front-proxy-client', 'front-proxy-client', 'clientAuth', '');

    const token = crypto.randomBytes(32).toString('hex');
    const tokenFile = path.join(pki, 'tokens.csv');
    fs.writeFileSync(tokenFile, `${token},asya-e2e-admin,asya-e2e-admin,"system:masters"\n`, { mode: 0o600 });

    /* ---- etcd ---- */
    const etcdUrl = await onFreePorts(2, async ([clientPort, peerPort]) => {
      const url = `http://127.0.0.1:${clientPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      fs.rmSync(path.join(dir, 'etcd'), { recursive: true, force: true });
      const etcd = launch('etcd', [
        '--name=asya-e2e',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=asya-e2e=${peerUrl}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ]);
      await waitFor(etcd, 'healthy (/health)', 30_000, async () => (await httpStatus(`${url}/health`, HTTP_TIMEOUT_MS)) === 200);
      return url;
    });

    /* ---- kube-apiserver ---- */
    const certDir = path.join(dir, 'apiserver-certs');
    const caFile = path.join(certDir, 'apiserver.crt');
    let ca: Buffer | undefined;
    const server = await onFreePorts(1, async ([apiPort]) => {
      const url = `https://127.0.0.1:${apiPort}`;
      const apiserver = launch('kube-apiserver', [
        `--etcd-servers=${etcdUrl}`,
        // All addresses: pods reach it at the node IP through the `kubernetes` Service (publishOn). Its
        // self-signed certificate names 127.0.0.1 and the Service's ClusterIP, which in-cluster clients dial.
        '--bind-address=0.0.0.0',
        '--advertise-address=127.0.0.1',
        // The `kubernetes` EndpointSlice is written by publishOn, with the node IP (the advertise address is
        // loopback, which an endpoint may not be).
        '--endpoint-reconciler-type=none',
        `--requestheader-client-ca-file=${path.join(frontProxy, 'ca.crt')}`,
        '--requestheader-allowed-names=front-proxy-client',
        '--requestheader-username-headers=X-Remote-User',
        '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        `--proxy-client-cert-file=${path.join(frontProxy, 'front-proxy-client.crt')}`,
        `--proxy-client-key-file=${path.join(frontProxy, 'front-proxy-client.key')}`,
        // Aggregated APIs and webhooks behind a Service are called at an endpoint address, not the ClusterIP:
        // the API server runs on the host, outside kube-proxy's reach.
        '--enable-aggregator-routing=true',
        `--secure-port=${apiPort}`,
        `--cert-dir=${certDir}`,
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--allow-privileged=true',
      ]);
      await waitFor(apiserver, 'ready (/readyz)', 120_000, async () => {
        if (!ca) {
          if (!fs.existsSync(caFile)) return false;
          ca = fs.readFileSync(caFile);
        }
        return (await httpsGet(`${url}/readyz`, { ca, token, timeoutMs: HTTP_TIMEOUT_MS })).status === 200;
      });
      return url;
    });

    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: asya-e2e',
        '  cluster:',
        `    server: ${server}`,
        `    certificate-authority-data: ${fs.readFileSync(caFile).toString('base64')}`,
        'users:',
        '- name: asya-e2e-admin',
        '  user:',
        `    token: ${token}`,
        'contexts:',
        '- name: asya-e2e',
        '  context:',
        '    cluster: asya-e2e',
        '    user: asya-e2e-admin',
        '    namespace: default',
        'current-context: asya-e2e',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );

    /* ---- kube-controller-manager ---- */
    // apiserver.crt is the serving cert followed by its self-signed CA. Pods
    // (kube-root-ca.crt) and the ClusterTrustBundle publisher want the CA only.
    const rootCaFile = path.join(pki, 'apiserver-ca.crt');
    fs.writeFileSync(rootCaFile, caCertsOnly(fs.readFileSync(caFile, 'utf8')));
    await onFreePorts(1, async ([kcmPort]) => {
      const kcm = launch('kube-controller-manager', [
        `--kubeconfig=${kubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${rootCaFile}`,
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        // KEDA's HPAs follow the queue within seconds, and scale down 10 s after the metric drops.
        `--horizontal-pod-autoscaler-sync-period=${HPA_SYNC_PERIOD}`,
        `--horizontal-pod-autoscaler-downscale-stabilization=${HPA_DOWNSCALE_STABILIZATION}`,
        // Canonical names of the old aliases nodeipam, nodelifecycle, persistentvolume-binder,
        // attachdetach, persistentvolume-expander, ttl: all about nodes and volumes, of which there are none.
        '--controllers=' +
          [
            '*',
            '-node-ipam-controller',
            '-node-lifecycle-controller',
            '-persistentvolume-binder-controller',
            '-persistentvolume-attach-detach-controller',
            '-persistentvolume-expander-controller',
            '-ttl-controller',
          ].join(','),
      ]);
      await waitFor(
        kcm,
        'creating ServiceAccount default/default',
        90_000,
        async () => (await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, { ca, token, timeoutMs: HTTP_TIMEOUT_MS })).status === 200,
      );
    });

    const kubectl = (args: string[], o: { input?: string; kubeconfig?: string } = {}): Promise<RunResult> =>
      run(bin('kubectl'), [`--kubeconfig=${o.kubeconfig ?? kubeconfig}`, ...args], {
        input: o.input,
        env: { ...process.env, KUBECONFIG: o.kubeconfig ?? kubeconfig },
      });

    /* ---- KEDA operator ---- */
    if (withKeda) {
      const crdDir = findKedaCrds(binDir);
      const apply = await kubectl(['apply', '--server-side', '--field-manager=asya-e2e', '-f', crdDir]);
      if (apply.code !== 0) throw new Error(`kubectl apply of KEDA CRDs from ${crdDir} failed:\n${apply.stderr}${apply.stdout}`);
      const est = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', crdDir]);
      if (est.code !== 0) throw new Error(`KEDA CRDs not Established:\n${est.stderr}${est.stdout}`);
      const ns = await kubectl(['create', 'namespace', 'keda']);
      if (ns.code !== 0) throw new Error(`kubectl create namespace keda failed:\n${ns.stderr}`);

      const kedaCerts = path.join(dir, 'keda-certs');
      await makeServingCerts(kedaCerts, 'keda-operator.keda.svc', [
        'keda-operator',
        'keda-operator.keda',
        'keda-operator.keda.svc',
        'keda-operator.keda.svc.cluster.local',
        `${KEDA_METRICS_SERVICE}.keda.svc`,
        'localhost',
      ]);

      const grpcPort = await onFreePorts(3, async ([healthPort, metricsPort, grpcPort]) => {
        const keda = launch(
          'keda-operator',
          [
            `--kubeconfig=${kubeconfig}`,
            `--cert-dir=${kedaCerts}`,
            '--enable-cert-rotation=false',
            '--enable-webhook-patching=false',
            '--enable-apiservice-patching=false',
            '--leader-elect=false',
            `--health-probe-bind-address=127.0.0.1:${healthPort}`,
            `--metrics-bind-address=127.0.0.1:${metricsPort}`,
            `--metrics-service-bind-address=127.0.0.1:${grpcPort}`,
          ],
          {
            KUBECONFIG: kubeconfig,
            KEDA_CLUSTER_OBJECT_NAMESPACE: 'keda',
            POD_NAMESPACE: 'keda',
            WATCH_NAMESPACE: '',
          },
        );
        await waitFor(keda, 'healthy (/healthz and /readyz)', 120_000, async () => {
          const h = await httpStatus(`http://127.0.0.1:${healthPort}/healthz`, HTTP_TIMEOUT_MS);
          return h === 200 && (await httpStatus(`http://127.0.0.1:${healthPort}/readyz`, HTTP_TIMEOUT_MS)) === 200;
        });
        return grpcPort as number;
      });

      // KEDA's metrics adapter (github.com/kedacore/keda/v2/cmd/adapter), as KEDA's own deployment runs it: it
      // asks the operator's gRPC metrics service for each metric. Serves on all addresses (the API server
      // reaches it at the node IP, see publishOn).
      adapterPort = await onFreePorts(2, async ([securePort, adapterMetricsPort]) => {
        const adapter = launch(
          'keda-adapter',
          [
            '--bind-address=0.0.0.0',
            `--secure-port=${securePort}`,
            `--port=${adapterMetricsPort}`,
            `--cert-dir=${kedaCerts}`,
            `--tls-cert-file=${path.join(kedaCerts, 'tls.crt')}`,
            `--tls-private-key-file=${path.join(kedaCerts, 'tls.key')}`,
            `--client-ca-file=${path.join(kedaCerts, 'ca.crt')}`,
            `--metrics-service-address=127.0.0.1:${grpcPort}`,
            '--metrics-service-grpc-authority=localhost',
            `--authentication-kubeconfig=${kubeconfig}`,
            `--authorization-kubeconfig=${kubeconfig}`,
            `--lister-kubeconfig=${kubeconfig}`,
            '--zap-log-level=info',
          ],
          { KUBECONFIG: kubeconfig, KEDA_CLUSTER_OBJECT_NAMESPACE: 'keda', POD_NAMESPACE: 'keda', WATCH_NAMESPACE: '' },
        );
        await waitFor(adapter, 'ready (/readyz)', 120_000, async () => (await httpsGet(`https://127.0.0.1:${securePort}/readyz`, { insecure: true, timeoutMs: HTTP_TIMEOUT_MS })).status === 200);
        return securePort as number;
      });
    }

    const apiPort = Number(new URL(server).port);
    const publishOn = async (ip: string): Promise<void> => {
      const slice = (namespace: string, service: string, port: number) => ({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: service,
          namespace,
          labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'asya-e2e' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [ip], conditions: { ready: true } }],
        ports: [{ name: 'https', port, protocol: 'TCP' }],
      });
      const objects: object[] = [slice('default', 'kubernetes', apiPort)];
      if (withKeda && adapterPort) {
        const kedaCa = fs.readFileSync(path.join(dir, 'keda-certs', 'ca.crt')).toString('base64');
        objects.push(
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: KEDA_METRICS_SERVICE, namespace: 'keda', labels: { 'app.kubernetes.io/name': KEDA_METRICS_SERVICE, 'app.kubernetes.io/part-of': 'keda-operator' } },
            spec: { ports: [{ name: 'https', port: 443, targetPort: adapterPort, protocol: 'TCP' }] },
          },
          slice('keda', KEDA_METRICS_SERVICE, adapterPort),
          {
            apiVersion: 'apiregistration.k8s.io/v1',
            kind: 'APIService',
            metadata: { name: EXTERNAL_METRICS_APISERVICE, labels: { 'app.kubernetes.io/name': EXTERNAL_METRICS_APISERVICE, 'app.kubernetes.io/part-of': 'keda-operator' } },
            spec: {
              service: { name: KEDA_METRICS_SERVICE, namespace: 'keda', port: 443 },
              group: 'external.metrics.k8s.io',
              version: 'v1beta1',
              caBundle: kedaCa,
              groupPriorityMinimum: 100,
              versionPriority: 100,
            },
          },
        );
      }
      const input = objects.map((o) => JSON.stringify(o)).join('\n');
      const r = await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=asya-e2e', '-f', '-'], { input });
      if (r.code !== 0) throw new Error(`publishing the control plane at ${ip} failed:\n${r.stderr}${r.stdout}`);
      if (withKeda && adapterPort) {
        const w = await kubectl(['wait', '--for=condition=Available', `apiservice/${EXTERNAL_METRICS_APISERVICE}`, '--timeout=60s']);
        if (w.code !== 0) {
          const d = await kubectl(['get', 'apiservice', EXTERNAL_METRICS_APISERVICE, '-o', 'yaml']);
          throw new Error(`APIService ${EXTERNAL_METRICS_APISERVICE} not Available at ${ip}:${adapterPort}:\n${w.stderr}\n${d.stdout}\n--- keda-adapter log ---\n${tail(path.join(logDir, 'keda-adapter.log'), 30)}`);
        }
      }
    };

    if (process.env.ASYA_E2E_DEBUG === '1') {
      process.stderr.write(`asya-e2e control plane up in ${((Date.now() - t0) / 1000).toFixed(1)}s at ${server} (dir ${dir})\n`);
    }

    return { dir, logDir, kubeconfig, server, token, caFile, binDir, serviceCidr: SERVICE_CIDR, publishOn, kubectl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The CA certificates of a PEM bundle (all of it if none is marked as a CA). */
function caCertsOnly(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const cas = blocks.filter((b) => new crypto.X509Certificate(b).ca);
  return `${(cas.length > 0 ? cas : blocks).join('\n')}\n`;
}

/** KEDA's CRDs: `<key>/keda-crds` beside the bin dir (copied by e2e-tools.sh), else the Go module cache. */
function findKedaCrds(binDir: string): string {
  const candidates = [path.join(path.dirname(binDir), 'keda-crds')];
  const gomodcache =
    process.env.GOMODCACHE ?? path.join(process.env.GOPATH ?? path.join(os.homedir(), 'go'), 'pkg', 'mod');
  candidates.push(path.join(gomodcache, 'github.com', 'kedacore', 'keda', 'v2@v2.20.2', 'config', 'crd', 'bases'));
  for (const c of candidates) {
    if (fs.existsSync(c) && fs.readdirSync(c).filter((f) => f.endsWith('.yaml')).length >= 6) return c;
  }
  throw new Error(`KEDA CRDs not found in ${candidates.join(' or ')}; run: bash scripts/e2e-tools.sh`);
}

/** A throwaway CA: `<dir>/ca.{crt,key}`. */
async function makeCa(dir: string, cn: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await mustRun('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '7',
    '-subj', `/CN=${cn}`, '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt'),
  ]);
}

/** `<dir>/<name>.{crt,key}` signed by `<dir>/ca.{crt,key}`, for `usage` (serverAuth, clientAuth), with `san` if any. */
async function signCert(dir: string, name: string, cn: string, usage: string, san: string): Promise<void> {
  const p = (f: string): string => path.join(dir, f);
  await mustRun('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', `/CN=${cn}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`)]);
  fs.writeFileSync(p(`${name}.cnf`), `${san ? `subjectAltName=${san}\n` : ''}keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\n`);
  await mustRun('openssl', [
    'x509', '-req', '-sha256', '-days', '7', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-extfile', p(`${name}.cnf`), '-out', p(`${name}.crt`),
  ]);
}

/** A throwaway CA and a serving cert signed by it: `<dir>/{ca.crt,tls.crt,tls.key}`. */
async function makeServingCerts(dir: string, cn: string, dnsNames: string[]): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const p = (f: string): string => path.join(dir, f);
  await mustRun('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '7',
    '-subj', '/CN=asya-e2e-ca', '-keyout', p('ca.key'), '-out', p('ca.crt'),
  ]);
  await mustRun('openssl', [
    'req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', `/CN=${cn}`, '-keyout', p('tls.key'), '-out', p('tls.csr'),
  ]);
  const san = [...dnsNames.map((d) => `DNS:${d}`), 'IP:127.0.0.1'].join(',');
  fs.writeFileSync(
    p('ext.cnf'),
    `subjectAltName=${san}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`,
  );
  await mustRun('openssl', [
    'x509', '-req', '-sha256', '-days', '7', '-in', p('tls.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-extfile', p('ext.cnf'), '-out', p('tls.crt'),
  ]);
}
