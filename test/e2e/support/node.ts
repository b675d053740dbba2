/**
 * A real Kubernetes node for the e2e control plane (controlPlane.ts), so that pods really run:
 *
 *   kube-scheduler -> kubelet -> containerd (CRI) -> runc, CNI bridge + host-local; kube-proxy; cluster DNS
 *
 * containerd, runc and the CNI plugins are Debian's packages (scripts/ci-setup.d/07-node.sh); kubelet and
 * kube-scheduler are built with the control plane (scripts/e2e-tools.sh); the images are written here (with
 * images.ts), without Docker or a registry, from what scripts/e2e-node-tools.sh caches (pause and sidecar
 * binaries, a Debian root file system with Python 3.13) and imported into containerd at start.
 *
 * Everything the node makes lives under a fresh temp dir, a cgroup of its own (`/asya-e2e-<id>` in every
 * hierarchy) and a bridge of its own on a private /24 whose gateway address is also the node IP (the one host
 * address pods can reach). containerd and kubelet run in a private mount namespace in which /run, /var/lib and
 * /var/log are directories of the node's: the mounts they make (pod volumes, container root file systems,
 * network namespace files) never appear on the host and disappear with the namespace, and the paths kubelet
 * hard-codes (/var/lib/kubelet/device-plugins, /var/log/containers) stay inside the node's dir. `stop()` kills
 * what is left in the node's cgroups, deletes the bridge and the cgroups, and removes the dir; a detached
 * watchdog does the same if the test process is killed.
 *
 * Services: kube-proxy (iptables mode, built with the control plane) turns ClusterIPs into endpoints for pods;
 * pods route the Service network (only it) through the node IP, forwarding is turned on for the node's bridge
 * alone, and one iptables rule drops whatever a pod sends that would leave through another interface. The
 * `kubernetes` Service points at the API server on the node IP (controlPlane.publishOn). A small DNS server of
 * this file answers `<service>.<namespace>.svc.cluster.local` on the node IP (the kubelet's clusterDNS) from
 * the API. `stop()` runs `kube-proxy --cleanup` and deletes that rule (both recorded in node.json).
 *
 * Needs root. Node built-ins only, plus `ip`, `unshare`, `nsenter`, `ctr` and the binaries above. Only erasable
 * TypeScript syntax: Node runs this file directly (globalSetup, scripts/control-plane.ts, the watchdog).
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
// .ts specifiers, as Node loads this file directly (see above); tsc rewrites them.
import { freePorts } from '../../support/ports.ts';
import { cachedImageArchive, cachedSha256, dirEntries, fileEntries, importImageArchive, writeImageArchive, writeLayer, type ImageSpec, type Layer } from './images.ts';
import { httpStatus, httpsGet, kill, mustRun, onExitOrSignal, procStartTime, run, sleep, sleepSync, spawnLogged, startWatchdog, tail, terminate, type ManagedProcess, type RunResult } from './processes.ts';

/** Image references as pods use them (pinned tags; imported, never pulled). */
export const NODE_IMAGES = {
  /** The sandbox image: test/e2e/node/pause (containerd's `sandbox_image`). */
  pause: 'asya-pause:e2e',
  /** The upstream Asya sidecar, entrypoint `/app/sidecar`, user 1000 (as upstream's Dockerfile). */
  sidecar: 'asya-sidecar:e2e',
  /** Debian bookworm minbase + CPython 3.13; test/e2e/node/handlers/* in /opt/asya-e2e/handlers (PYTHONPATH). */
  python: 'asya-python:e2e',
  /** The same Python root with upstream asya-crew's `handlers` package in /app (PYTHONPATH=/app). */
  crew: 'asya-crew:e2e',
} as const;

/** Where the python image keeps the test handlers (on its PYTHONPATH): ASYA_HANDLER=echo.process. */
export const HANDLERS_DIR_IN_IMAGE = '/opt/asya-e2e/handlers';
/** The node's name; it resolves to 127.0.0.1, where the kubelet API listens (kubectl logs/exec). */
export const NODE_NAME = 'localhost';
/** Registries are mirrored to this address: nothing listens, so a pull fails at once and nothing leaves. */
export const DEAD_REGISTRY = '127.0.0.1:1';

export interface KubeNode {
  name: string;
  /** Node IP = gateway of the pod network, on the bridge: the host address pods can reach. */
  ip: string;
  /** Pod network, e.g. `10.213.7.0/24`. */
  subnet: string;
  bridge: string;
  /** Cgroup (in every hierarchy) holding kubelet, containerd and all pods. */
  cgroupRoot: string;
  dir: string;
  logDir: string;
  containerdSocket: string;
  images: typeof NODE_IMAGES;
  /** The upstream Asya copy the sidecar and crew images were built from (its asya-runtime script too). */
  upstreamDir: string;
  /** Seconds spent in each start step. */
  timings: Record<string, number>;
  /** `ctr --address <socket> -n k8s.io ...`; never throws. */
  ctr(args: string[], opts?: { input?: string }): Promise<RunResult>;
  /** Stops everything the node started and removes its dir (unless ASYA_E2E_KEEP=1). Idempotent. */
  stop(): Promise<void>;
}

export interface NodeControlPlane {
  kubeconfig: string;
  binDir: string;
  /** The API server (https://127.0.0.1:port), an admin token and its CA: the cluster DNS reads Services. */
  server?: string;
  token?: string;
  caFile?: string;
  /** The Service network: pods route it through the node IP. */
  serviceCidr?: string;
  /** Publishes the API server (and KEDA's metrics adapter) at the node IP: see controlPlane.ts. */
  publishOn?(ip: string): Promise<void>;
}

/** One kube-proxy per host at a time (its iptables chains are global): held while a node runs it. */
export const KUBE_PROXY_LOCK = '/run/lock/asya-e2e-kube-proxy.lock';

/** The cluster domain (the kubelet's clusterDomain): `<service>.<namespace>.svc.cluster.local`. */
export const CLUSTER_DOMAIN = 'cluster.local';

export interface StartNodeOptions {
  /** Default: the node's temp dir. */
  logDir?: string;
  /** Default: a fresh 10.213.N.0/24 that overlaps no address or route of the host. */
  subnet?: string;
}

/** What cleanup needs, written to `<dir>/node.json` as the node starts (read by the watchdog). */
export interface NodeManifest {
  dir: string;
  keep: boolean;
  bridge: string;
  cgroupName: string;
  /** Mount points of the cgroup hierarchies the node's cgroup was created in. */
  cgroupMounts: string[];
  /** Processes started directly: `pid` and start time (field 22 of /proc/<pid>/stat). */
  pids: Array<{ pid: number; start: string }>;
  /** `mnt:[inode]` of the node's mount namespace, once containerd runs. */
  mountNs?: string;
  /** The kube-proxy binary, once it has run: cleanup runs `<it> --cleanup` (its iptables chains). */
  kubeProxy?: string;
  /** iptables rules (filter table) the node inserted, as `-I` arguments: cleanup deletes each with `-D`. */
  iptablesRules?: string[][];
  /** The process holding KUBE_PROXY_LOCK: killed after kube-proxy's rules are removed. */
  lock?: { pid: number; start: string };
}

/** The repository: three levels up from test/e2e/support, also when this file runs compiled from dist/. */
export const REPO_ROOT = ((): string => {
  let d = path.dirname(decodeURIComponent(new URL(import.meta.url).pathname));
  for (let i = 0; i < 6 && !fs.existsSync(path.join(d, 'scripts', 'e2e-node-tools.sh')); i++) d = path.dirname(d);
  return d;
})();
const STOP_GRACE_MS = 5_000;
const HTTP_TIMEOUT_MS = 3_000;

/* ------------------------------------------------------------------------ */
/* The node's images, written with images.ts.                               */
/* ------------------------------------------------------------------------ */

/** Paths of what scripts/e2e-node-tools.sh built (it prints them without building with --print-paths). */
export interface NodeArtifacts {
  pauseBin: string;
  sidecarBin: string;
  pythonRootfs: string;
  /** Debian minbase without Python (the operator image's base, support/operatorImage.ts). */
  debianRootfs?: string;
  upstreamDir: string;
  /** Where image layers and archives are cached. */
  imageCache: string;
}

export function nodeArtifacts(): NodeArtifacts {
  const script = path.join(REPO_ROOT, 'scripts', 'e2e-node-tools.sh');
  const r = spawnSync('bash', [script, '--print-paths'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} --print-paths failed: ${r.stderr}`);
  const kv = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string | undefined>;
  const get = (k: string): string => {
    const v = kv[k];
    if (!v) throw new Error(`${script} --print-paths printed no ${k}`);
    return v;
  };
  const cacheRoot = process.env.ASYA_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'asya-e2e');
  return {
    pauseBin: get('ASYA_NODE_PAUSE_BIN'),
    sidecarBin: get('ASYA_NODE_SIDECAR_BIN'),
    pythonRootfs: get('ASYA_NODE_PYTHON_ROOTFS'),
    debianRootfs: kv.ASYA_NODE_DEBIAN_ROOTFS,
    upstreamDir: get('ASYA_NODE_UPSTREAM_DIR'),
    imageCache: path.join(cacheRoot, 'node', 'images'),
  };
}

const PYTHON_ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'LANG=C.UTF-8',
  'PYTHONUNBUFFERED=1',
  'PYTHONDONTWRITEBYTECODE=1',
];

/** The Python root file system as a layer (its sha256 computed once and remembered beside it). */
export function pythonRootfsLayer(a: NodeArtifacts): Layer {
  return { file: a.pythonRootfs, sha256: cachedSha256(a.pythonRootfs) };
}

/** The specs of the four node images (NODE_IMAGES), their small layers written into the image cache. */
export function nodeImageSpecs(a: NodeArtifacts): ImageSpec[] {
  const layers = path.join(a.imageCache, 'layers');
  const rootfs = pythonRootfsLayer(a);
  const pause = writeLayer(layers, 'pause', [{ name: 'pause', type: 'file', source: a.pauseBin, mode: 0o755 }]);
  const sidecar = writeLayer(layers, 'sidecar', [
    { name: 'app', type: 'dir', uid: 1000, gid: 1000 },
    { name: 'app/sidecar', type: 'file', source: a.sidecarBin, mode: 0o755 },
    { name: 'tmp', type: 'dir', mode: 0o1777 },
  ]);
  const handlers = writeLayer(layers, 'handlers', dirEntries(path.join(REPO_ROOT, 'test', 'e2e', 'node', 'handlers'), HANDLERS_DIR_IN_IMAGE));
  const crewSrc = path.join(a.upstreamDir, 'src', 'asya-crew', 'handlers');
  if (!fs.existsSync(crewSrc)) throw new Error(`${crewSrc} not found (the upstream Asya copy, ASYA_UPSTREAM_DIR)`);
  const crew = writeLayer(layers, 'crew', dirEntries(crewSrc, '/app/handlers'));
  return [
    { ref: NODE_IMAGES.pause, layers: [pause], config: { Entrypoint: ['/pause'], User: '65535:65535' } },
    {
      ref: NODE_IMAGES.sidecar,
      layers: [sidecar],
      config: { Entrypoint: ['/app/sidecar'], WorkingDir: '/app', User: '1000:1000', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    },
    {
      ref: NODE_IMAGES.python,
      layers: [rootfs, handlers],
      config: { Cmd: ['python3'], Env: [...PYTHON_ENV, `PYTHONPATH=${HANDLERS_DIR_IN_IMAGE}`] },
    },
    { ref: NODE_IMAGES.crew, layers: [rootfs, crew], config: { Cmd: ['python3'], WorkingDir: '/app', Env: [...PYTHON_ENV, 'PYTHONPATH=/app'] } },
  ];
}

/**
 * Builds `ref` from the python image's root file system plus `files` (paths relative to
 * HANDLERS_DIR_IN_IMAGE, or absolute) and imports it into the node: for a test's own handlers.
 */
export async function importPythonImage(
  containerdSocket: string,
  ref: string,
  files: Record<string, string | Buffer>,
  opts: { env?: string[]; workingDir?: string } = {},
): Promise<void> {
  const a = nodeArtifacts();
  const abs = Object.fromEntries(Object.entries(files).map(([k, v]) => [k.startsWith('/') ? k : `${HANDLERS_DIR_IN_IMAGE}/${k}`, v]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asya-e2e-image-'));
  try {
    const spec: ImageSpec = {
      ref,
      layers: [pythonRootfsLayer(a), writeLayer(dir, 'files', fileEntries(abs))],
      config: { Cmd: ['python3'], Env: [...PYTHON_ENV, `PYTHONPATH=${HANDLERS_DIR_IN_IMAGE}`, ...(opts.env ?? [])], ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}) },
    };
    const archive = path.join(dir, 'image.tar');
    writeImageArchive(archive, [spec]);
    await importImageArchive(containerdSocket, archive);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------------ */
/* Cleanup: shared by stop(), the exit hook and the watchdog.               */
/* ------------------------------------------------------------------------ */

function cgroupHierarchies(): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.push(line.split(' ')[4] as string);
  }
  return out;
}

/** Every cgroup dir under `root`, deepest first. */
function cgroupTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const n of names) if (n.isDirectory()) walk(path.join(d, n.name));
    out.push(d);
  };
  walk(root);
  return out;
}

function cgroupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    try {
      for (const l of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.add(Number(l));
    } catch {
      /* gone */
    }
  }
  return [...pids];
}

function pidsInMountNs(ns: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readlinkSync(`/proc/${p}/ns/mnt`) === ns) out.push(Number(p));
    } catch {
      /* gone or a kernel thread */
    }
  }
  return out;
}

function mountsUnder(dir: string): string[] {
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === dir || mp.startsWith(prefix))) out.push(mp.replace(/\\040/g, ' '));
  }
  return out.sort().reverse();
}

/**
 * Stops a node from its manifest, synchronously (also from an `exit` hook): SIGKILLs its recorded processes
 * (checking their start times), then everything left in its cgroups and mount namespace (pods, shims), deletes
 * its bridge and cgroups, and removes its dir unless `keep`. Safe to call twice.
 */
export function cleanupNodeSync(m: NodeManifest): void {
  // Never sweep a cgroup or mount namespace that is not the node's own (a damaged manifest, a failed unshare).
  if (!/^asya-e2e-[0-9a-f]+$/.test(m.cgroupName)) throw new Error(`refusing to clean up cgroup ${JSON.stringify(m.cgroupName)}`);
  const foreignNs = new Set<string>();
  for (const pid of ['self', '1']) {
    try {
      foreignNs.add(fs.readlinkSync(`/proc/${pid}/ns/mnt`));
    } catch {
      /* not readable */
    }
  }
  const mountNs = m.mountNs && !foreignNs.has(m.mountNs) ? m.mountNs : undefined;
  for (const { pid, start } of m.pids) {
    if (procStartTime(pid) === start) kill(pid, 'SIGKILL');
  }
  const roots = m.cgroupMounts.map((mp) => path.join(mp, m.cgroupName));
  for (let i = 0; i < 100; i++) {
    const victims = [...cgroupPids(roots.flatMap(cgroupTree)), ...(mountNs ? pidsInMountNs(mountNs) : [])].filter((p) => p !== process.pid);
    if (victims.length === 0) break;
    for (const p of victims) kill(p, 'SIGKILL');
    sleepSync(50);
  }
  // kube-proxy's chains (KUBE-SERVICES, KUBE-FORWARD, ... and the jumps to them), then the node's own rules.
  if (m.kubeProxy && fs.existsSync(m.kubeProxy)) spawnSync(m.kubeProxy, ['--cleanup', '--v=0'], { stdio: 'ignore', timeout: 30_000 });
  for (const rule of m.iptablesRules ?? []) {
    for (let i = 0; i < 10 && spawnSync('iptables', ['-w', '5', '-D', ...rule], { stdio: 'ignore' }).status === 0; i++);
  }
  if (m.lock && procStartTime(m.lock.pid) === m.lock.start) kill(m.lock.pid, 'SIGKILL');
  if (m.bridge && fs.existsSync(`/sys/class/net/${m.bridge}`)) spawnSync('ip', ['link', 'del', m.bridge], { stdio: 'ignore' });
  for (let i = 0; i < 40; i++) {
    let left = 0;
    for (const root of roots) {
      for (const d of cgroupTree(root)) {
        try {
          fs.rmdirSync(d);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left++;
        }
      }
    }
    if (left === 0) break;
    sleepSync(50);
  }
  if (!m.keep && fs.existsSync(m.dir)) {
    // containerd and kubelet mounted in their own namespace, so nothing should be mounted here in ours; if
    // something is, unmount it rather than delete through it.
    for (const mp of mountsUnder(m.dir)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
    if (mountsUnder(m.dir).length === 0) fs.rmSync(m.dir, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------------ */
/* Exit hooks and watchdog.                                                 */
/* ------------------------------------------------------------------------ */

const liveNodes = new Map<string, () => NodeManifest>();

function cleanupLiveNodesSync(): void {
  for (const get of liveNodes.values()) {
    try {
      cleanupNodeSync(get());
    } catch {
      /* the watchdog retries */
    }
  }
  liveNodes.clear();
}

/**
 * The watchdog of each node (startWatchdog), for when we are SIGKILLed: once our PID goes away it runs
 * cleanupNodeSync on `<dir>/node.json`, importing this very file (Node strips its types). Arguments: the
 * manifest file, this file's URL.
 */
const WATCHDOG_ON_ORPHANED = `
      const [manifest, self] = args;
      let m;
      try { m = JSON.parse(fs.readFileSync(manifest, 'utf8')); } catch { process.exit(0); }
      import(self).then((mod) => { mod.cleanupNodeSync(m); process.exit(0); }, () => process.exit(1));
`;

/* ------------------------------------------------------------------------ */
/* The node.                                                                */
/* ------------------------------------------------------------------------ */

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
}

/** A 10.213.N.0/24 that contains no address of the host and overlaps none of its routes but the default. */
function pickSubnet(): string {
  const taken: Array<[number, number]> = [];
  const addCidr = (cidr: string): void => {
    const [ip, bits] = cidr.split('/');
    if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return;
    const b = Number(bits ?? 32);
    const mask = b === 0 ? 0 : (~0 << (32 - b)) >>> 0;
    const start = (ipv4ToInt(ip) & mask) >>> 0;
    taken.push([start, start + 2 ** (32 - b) - 1]);
  };
  const addrs = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of addrs.matchAll(/inet (\S+)/g)) addCidr(m[1] as string);
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  for (const l of routes.split('\n')) {
    const first = l.split(' ')[0] ?? '';
    const dest = first === 'local' || first === 'broadcast' ? (l.split(' ')[1] ?? '') : first;
    if (dest && dest !== 'default') addCidr(dest);
  }
  try {
    for (const m of fs.readFileSync('/etc/resolv.conf', 'utf8').matchAll(/^nameserver\s+(\d+\.\d+\.\d+\.\d+)/gm)) addCidr(`${m[1]}/32`);
  } catch {
    /* none */
  }
  const offset = crypto.randomInt(256);
  for (let i = 0; i < 256; i++) {
    const n = (offset + i) % 256;
    const start = ipv4ToInt(`10.213.${n}.0`);
    if (!taken.some(([s, e]) => s <= start + 255 && start <= e)) return `10.213.${n}.0/24`;
  }
  throw new Error('no free 10.213.N.0/24 for the e2e pod network');
}

/** The CNI network: Debian's bridge plugin on the node's bridge, host-local addresses from `subnet`. */
function cniConflist(name: string, bridge: string, subnet: string, gateway: string, ipamDir: string, serviceCidr?: string): object {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge,
        // Not a gateway: with isGateway the plugin turns on net.ipv4.ip_forward for the whole host. The suite
        // puts the gateway address on the bridge itself (and turns forwarding on for this bridge alone); pods
        // reach it on-link. No masquerading by the plugin: kube-proxy masquerades Service traffic.
        isGateway: false,
        ipMasq: false,
        hairpinMode: false,
        // The Service network (only it, no default route) through the node, where kube-proxy's rules are.
        ipam: { type: 'host-local', ranges: [[{ subnet, gateway }]], dataDir: ipamDir, ...(serviceCidr ? { routes: [{ dst: serviceCidr, gw: gateway }] } : {}) },
      },
    ],
  };
}

/** Every registry (and any other, `_default`) mirrored to DEAD_REGISTRY, with no fallback to the real one. */
function writeRegistryMirrors(hostsDir: string): void {
  for (const h of ['_default', 'docker.io', 'registry.k8s.io', 'quay.io', 'ghcr.io', 'gcr.io', 'registry.example.com']) {
    fs.mkdirSync(path.join(hostsDir, h), { recursive: true });
    fs.writeFileSync(
      path.join(hostsDir, h, 'hosts.toml'),
      `server = "http://${DEAD_REGISTRY}"\n\n[host."http://${DEAD_REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
}

/** containerd 1.6's config: everything under `dir`, its own socket, runc, the CRI as the kubelet needs it. */
function containerdConfig(dir: string, socket: string, hostsDir: string): string {
  const q = (s: string): string => JSON.stringify(s);
  const p = (...s: string[]): string => path.join(dir, ...s);
  return [
    'version = 2',
    `root = ${q(p('containerd', 'root'))}`,
    `state = ${q(p('containerd', 'state'))}`,
    'oom_score = 0',
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
    '[grpc]',
    `  address = ${q(socket)}`,
    '[ttrpc]',
    `  address = ${q(`${socket}.ttrpc`)}`,
    '[debug]',
    '  level = "info"',
    '[metrics]',
    '  address = ""',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(p('containerd', 'opt'))}`,
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = ${q(`docker.io/library/${NODE_IMAGES.pause}`)}`,
    // This machine cannot lower OOM scores: without this every sandbox fails ("can't get final child's PID").
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  enable_selinux = false',
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "runc"',
    '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '      runtime_type = "io.containerd.runc.v2"',
    '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    '        BinaryName = "/usr/sbin/runc"',
    `        Root = ${q(p('runc'))}`,
    '        SystemdCgroup = false',
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    '    bin_dir = "/usr/lib/cni"',
    `    conf_dir = ${q(p('cni', 'net.d'))}`,
    '    max_conf_num = 1',
    '  [plugins."io.containerd.grpc.v1.cri".registry]',
    `    config_path = ${q(hostsDir)}`,
    '',
  ].join('\n');
}

/* ------------------------------------------------------------------------ */
/* Cluster DNS: Service names on the node IP.                               */
/* ------------------------------------------------------------------------ */

/** Reads a DNS name at `off` (no compression pointers in questions of stub resolvers); undefined if malformed. */
function readDnsName(msg: Buffer, off: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  for (let i = off; i < msg.length; ) {
    const len = msg[i] as number;
    if (len === 0) return { name: labels.join('.'), end: i + 1 };
    if (len > 63 || i + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return undefined;
}

/**
 * The answer to one DNS query: A records of `<service>.<namespace>.svc.<CLUSTER_DOMAIN>` from `lookup` (the
 * Service's ClusterIP), NODATA for its other types, NXDOMAIN for every other name (nothing is forwarded:
 * there is no network beyond this machine). Exported for its unit test.
 */
export async function dnsAnswer(query: Buffer, lookup: (namespace: string, service: string) => Promise<string | undefined>): Promise<Buffer | undefined> {
  if (query.length < 12 || (query[2] as number) & 0x80) return undefined;
  const qdcount = query.readUInt16BE(4);
  const q = readDnsName(query, 12);
  if (qdcount !== 1 || !q || q.end + 4 > query.length) {
    const h = Buffer.from(query.subarray(0, 12));
    h.writeUInt16BE(0x8001 | (query.readUInt16BE(2) & 0x0100), 2); // FORMERR
    h.fill(0, 4);
    return h;
  }
  const qtype = query.readUInt16BE(q.end);
  const question = query.subarray(12, q.end + 4);
  const labels = q.name.toLowerCase().split('.');
  const suffix = ['svc', ...CLUSTER_DOMAIN.split('.')];
  let ip: string | undefined;
  let known = false;
  if (labels.length === 2 + suffix.length && labels.slice(2).join('.') === suffix.join('.')) {
    ip = await lookup(labels[1] as string, labels[0] as string).catch(() => undefined);
    known = ip !== undefined;
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR, AA, RD copied, RA; rcode 3 (NXDOMAIN) for unknown names.
  header.writeUInt16BE(0x8480 | (query.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  const answers: Buffer[] = [];
  if (known && ip && (qtype === 1 || qtype === 255)) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(5, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    answers.push(rr);
  }
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, question, ...answers]);
}

/**
 * Serves cluster DNS over UDP on `ip:53`, asking the API server for each Service (cached 2 s). Stops with the
 * returned function.
 */
async function serveClusterDns(ip: string, cp: NodeControlPlane): Promise<() => Promise<void>> {
  const ca = cp.caFile ? fs.readFileSync(cp.caFile) : undefined;
  const cache = new Map<string, { at: number; ip: string | undefined }>();
  const lookup = (namespace: string, service: string): Promise<string | undefined> => {
    const key = `${namespace}/${service}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < 2_000) return Promise.resolve(hit.ip);
    return new Promise((resolve) => {
      const url = `${cp.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}`;
      const req = https.get(url, { ca, headers: { Authorization: `Bearer ${cp.token}` }, timeout: 3_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => {
          let found: string | undefined;
          if (res.statusCode === 200) {
            const clusterIP = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { spec?: { clusterIP?: string } }).spec?.clusterIP;
            if (clusterIP && /^\d+\.\d+\.\d+\.\d+$/.test(clusterIP)) found = clusterIP;
          }
          cache.set(key, { at: Date.now(), ip: found });
          resolve(found);
        });
        res.on('error', () => resolve(undefined));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(undefined));
    });
  };
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    void dnsAnswer(msg, lookup).then((answer) => {
      if (answer) sock.send(answer, rinfo.port, rinfo.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(53, ip, () => resolve());
  });
  sock.on('error', () => undefined);
  sock.unref();
  return () => new Promise<void>((r) => sock.close(() => r()));
}

/** kube-proxy's configuration: iptables mode, the host's conntrack and sysctl settings left as they are. */
function kubeProxyConfiguration(o: { kubeconfig: string; ip: string; subnet: string; healthzPort: number; metricsPort: number }): object {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: o.kubeconfig },
    hostnameOverride: NODE_NAME,
    bindAddress: o.ip,
    healthzBindAddress: `127.0.0.1:${o.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${o.metricsPort}`,
    mode: 'iptables',
    clusterCIDR: o.subnet,
    detectLocalMode: 'ClusterCIDR',
    nodePortAddresses: [`${o.ip}/32`],
    // Masquerade all Service traffic: a pod's reply to another pod of the same bridge then comes back through
    // the node, where the connection is un-NATed. No route_localnet (localhost NodePorts) on the host.
    iptables: { masqueradeAll: true, localhostNodePorts: false, syncPeriod: '30s', minSyncPeriod: '0s' },
    // 0: leave the host's nf_conntrack_max and TCP timeouts alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    oomScoreAdj: 0,
  };
}

/** The KubeletConfiguration of the node. */
function kubeletConfiguration(o: { dir: string; containerdSocket: string; cgroupName: string; port: number; healthzPort: number; clusterDns?: string }): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // The kubelet API on loopback only, anonymous and allowed all: the API server (kubectl logs/exec) dials
    // the node's Hostname address, `localhost`. Pods cannot reach it.
    address: '127.0.0.1',
    port: o.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: o.healthzPort,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    // This machine has cgroup v1 hierarchies (kubelet refuses them unless told otherwise).
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${o.cgroupName}`,
    cgroupsPerQOS: true,
    failSwapOn: false,
    // The default (-999) cannot be set here.
    oomScoreAdj: 0,
    // A crashed container shows as CrashLoopBackOff ~4 s after its second exit, not after a periodic sync
    // (default 1 min, +50% jitter) with "Error" until then.
    syncFrequency: '3s',
    nodeStatusUpdateFrequency: '2s',
    containerRuntimeEndpoint: `unix://${o.containerdSocket}`,
    podLogsDir: path.join(o.dir, 'pod-logs'),
    volumePluginDir: path.join(o.dir, 'volume-plugins'),
    resolvConf: path.join(o.dir, 'resolv.conf'),
    // Pods (dnsPolicy ClusterFirst) ask the node's DNS server (serveClusterDns) for Service names.
    ...(o.clusterDns ? { clusterDNS: [o.clusterDns], clusterDomain: CLUSTER_DOMAIN } : {}),
    // No KUBE-FIREWALL / KUBE-KUBELET-CANARY chains on the host: the kubelet would leave them behind.
    makeIPTablesUtilChains: false,
    // Imported images are never garbage-collected, and a full disk does not evict the suite's pods.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%', 'imagefs.inodesFree': '1%' },
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    hairpinMode: 'none',
    kubeAPIQPS: 50,
    kubeAPIBurst: 100,
    shutdownGracePeriod: '0s',
  };
}

/**
 * Starts the node on a running control plane: image archive (cached), cgroups, bridge, containerd (images
 * imported), kube-scheduler, kubelet; resolves once the node is Ready and untainted. A failure stops whatever
 * was started and throws with the tail of the failing process's log. Never builds anything (see
 * scripts/setup-test-tools.sh).
 */
export async function startNode(cp: NodeControlPlane, opts: StartNodeOptions = {}): Promise<KubeNode> {
  if (process.getuid?.() !== 0) throw new Error('the e2e node needs root (containerd, runc, cgroups, a bridge)');
  const bin = (name: string): string => path.join(cp.binDir, name);
  const missing = ['kubelet', 'kube-scheduler', 'kubectl'].filter((b) => !fs.existsSync(bin(b)));
  if (missing.length > 0) throw new Error(`e2e binaries missing in ${cp.binDir}: ${missing.join(', ')}.\nBuild them first: bash scripts/e2e-tools.sh`);
  for (const [what, p] of [
    ['containerd', '/usr/bin/containerd'],
    ['containerd-shim-runc-v2', '/usr/bin/containerd-shim-runc-v2'],
    ['ctr', '/usr/bin/ctr'],
    ['runc', '/usr/sbin/runc'],
    ['the CNI bridge plugin', '/usr/lib/cni/bridge'],
  ] as const) {
    if (!fs.existsSync(p)) throw new Error(`${what} (${p}) is missing: run bash scripts/ci-setup.d/07-node.sh (Debian's containerd, runc, containernetworking-plugins)`);
  }
  const artifacts = nodeArtifacts();
  for (const p of [artifacts.pauseBin, artifacts.sidecarBin, artifacts.pythonRootfs]) {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing: run bash scripts/e2e-node-tools.sh (or scripts/setup-test-tools.sh)`);
  }

  const keep = process.env.ASYA_E2E_KEEP === '1';
  const id = crypto.randomBytes(3).toString('hex');
  // Not under /run, /var/lib or /var/log: those are replaced inside the node's mount namespace.
  let tmpRoot = os.tmpdir();
  if (/^\/(run|var\/run|var\/lib|var\/log)(\/|$)/.test(tmpRoot)) tmpRoot = '/tmp';
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'asya-node-'));
  const logDir = path.resolve(opts.logDir ?? dir);
  fs.mkdirSync(logDir, { recursive: true });
  const p = (...s: string[]): string => path.join(dir, ...s);
  for (const d of ['ns/run', 'ns/var-lib', 'ns/var-log', 'containerd/root', 'containerd/state', 'containerd/opt', 'runc', 'cni/net.d', 'cni/ipam', 'kubelet', 'pod-logs', 'volume-plugins']) {
    fs.mkdirSync(p(d), { recursive: true });
  }

  const subnet = opts.subnet ?? pickSubnet();
  const base = subnet.split('/')[0]?.split('.').slice(0, 3).join('.');
  const ip = `${base}.1`;
  const bridge = `asya${id}`;
  const cgroupName = `asya-e2e-${id}`;
  const manifestFile = p('node.json');
  const manifest: NodeManifest = { dir, keep, bridge, cgroupName, cgroupMounts: [], pids: [] };
  const saveManifest = (): void => {
    fs.writeFileSync(`${manifestFile}.tmp`, JSON.stringify(manifest, null, 1));
    fs.renameSync(`${manifestFile}.tmp`, manifestFile);
  };
  saveManifest();
  onExitOrSignal(cleanupLiveNodesSync);
  liveNodes.set(dir, () => manifest);
  const watchdog = startWatchdog(WATCHDOG_ON_ORPHANED, [manifestFile, new URL(import.meta.url).href]);

  const procs: ManagedProcess[] = [];
  const launch = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess => {
    const proc = spawnLogged(name, cmd, args, { cwd: dir, env, logFile: path.join(logDir, `${name}.log`) });
    procs.push(proc);
    manifest.pids.push({ pid: proc.pid, start: procStartTime(proc.pid) ?? '' });
    saveManifest();
    return proc;
  };
  const fail = (proc: ManagedProcess, what: string, extra = ''): never => {
    const kept = keep || opts.logDir ? '' : ' (removed with the node dir: set ASYA_E2E_KEEP=1 to keep it)';
    throw new Error(`${proc.name} ${what}; process ${proc.exited ? 'exited' : 'still running'}.${extra}\n--- last lines of ${proc.logFile}${kept} ---\n${tail(proc.logFile)}`);
  };
  const waitFor = async (proc: ManagedProcess, what: string, timeoutMs: number, check: () => Promise<boolean>, extra = (): string => ''): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (proc.exited) return fail(proc, `exited before ${what}`, extra());
      if (await check()) return;
      if (Date.now() > deadline) return fail(proc, `not ${what} after ${timeoutMs / 1000}s`, extra());
      await sleep(200);
    }
  };
  let stopped = false;
  let stopDns: (() => Promise<void>) | undefined;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopDns?.();
    // kubelet first (so it does not restart what is being killed), then the scheduler and containerd; the
    // pods and shims go with the cgroups; kube-proxy last (cleanupNodeSync removes its rules).
    for (const name of ['kubelet', 'kube-scheduler', 'containerd', 'kube-proxy']) {
      const proc = procs.find((x) => x.name === name);
      if (proc) await terminate(proc, STOP_GRACE_MS);
    }
    if (watchdog.pid !== undefined) kill(watchdog.pid, 'SIGKILL');
    cleanupNodeSync(manifest);
    liveNodes.delete(dir);
  };

  const timings: Record<string, number> = {};
  let mark = Date.now();
  const step = (name: string): void => {
    const now = Date.now();
    timings[name] = (now - mark) / 1000;
    mark = now;
  };
  const containerdSocket = p('containerd.sock');
  const ctr = (args: string[], o: { input?: string } = {}): Promise<RunResult> =>
    run('ctr', ['--address', containerdSocket, '--namespace', 'k8s.io', ...args], { input: o.input, timeoutMs: 120_000 });
  const kubectl = (args: string[]): Promise<RunResult> => run(bin('kubectl'), [`--kubeconfig=${cp.kubeconfig}`, ...args], { timeoutMs: 60_000 });

  try {
    /* ---- images (archive cached by content) ---- */
    const archive = cachedImageArchive(artifacts.imageCache, 'node-images', nodeImageSpecs(artifacts));
    step('images');

    /* ---- cgroups: /<cgroupName> in every hierarchy, kubelet and containerd in <cgroupName>/runtime ---- */
    const joinFiles: string[] = [];
    for (const mp of cgroupHierarchies()) {
      const root = path.join(mp, cgroupName);
      fs.mkdirSync(path.join(root, 'runtime'), { recursive: true });
      manifest.cgroupMounts.push(mp);
      saveManifest();
      if (fs.existsSync(path.join(mp, 'cpuset.cpus')) && !fs.existsSync(path.join(mp, 'cgroup.controllers'))) {
        // cgroup v1 cpuset: a new cgroup has no CPUs or memory nodes until given its parent's.
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          const v = fs.readFileSync(path.join(mp, f), 'utf8');
          fs.writeFileSync(path.join(root, f), v);
          fs.writeFileSync(path.join(root, 'runtime', f), v);
        }
      }
      joinFiles.push(path.join(root, 'runtime', 'cgroup.procs'));
    }

    /* ---- network: a bridge holding the gateway address; pods only get the on-link route ---- */
    await mustRun('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await mustRun('ip', ['addr', 'add', `${ip}/24`, 'dev', bridge]);
    await mustRun('ip', ['link', 'set', bridge, 'up']);
    if (cp.serviceCidr) {
      // Pod -> ClusterIP -> pod crosses the node: forwarding for packets that arrive on this bridge only (goes
      // with the bridge), and a rule that drops any of them leaving through another interface.
      fs.writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '1');
      const rule = ['FORWARD', '-i', bridge, '!', '-o', bridge, '-m', 'comment', '--comment', `asya-e2e-${id}: pods reach nothing beyond the node`, '-j', 'DROP'];
      manifest.iptablesRules = [rule];
      saveManifest();
      await mustRun('iptables', ['-w', '5', '-I', ...rule]);
    }
    fs.writeFileSync(p('cni', 'net.d', '10-asya-e2e.conflist'), JSON.stringify(cniConflist(`asya-e2e-${id}`, bridge, subnet, ip, p('cni', 'ipam'), cp.serviceCidr), null, 1));
    fs.writeFileSync(p('resolv.conf'), fs.existsSync('/etc/resolv.conf') ? fs.readFileSync('/etc/resolv.conf') : '');
    step('cgroups+network');

    /* ---- containerd, in a mount namespace of its own ---- */
    const hosts = p('containerd', 'certs.d');
    writeRegistryMirrors(hosts);
    fs.writeFileSync(p('containerd', 'config.toml'), containerdConfig(dir, containerdSocket, hosts));
    // Joins the node's cgroup, replaces /run, /var/lib and /var/log by the node's own dirs (this runs inside
    // the new mount namespace), then execs the command: the PID stays the one we record.
    const nodeShell =
      'set -e; for f in $ASYA_NODE_CGROUP_PROCS; do echo $$ > "$f"; done; ' +
      'if [ -n "$ASYA_NODE_NS_DIR" ]; then mount --bind "$ASYA_NODE_NS_DIR/run" /run; ' +
      'mount --bind "$ASYA_NODE_NS_DIR/var-lib" /var/lib; mount --bind "$ASYA_NODE_NS_DIR/var-log" /var/log; fi; exec "$@"';
    const baseEnv: NodeJS.ProcessEnv = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: dir,
      LANG: 'C.UTF-8',
      ASYA_NODE_CGROUP_PROCS: joinFiles.join(' '),
    };
    const containerd = launch('containerd', 'unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', nodeShell, 'sh', '/usr/bin/containerd', '--config', p('containerd', 'config.toml')], {
      ...baseEnv,
      ASYA_NODE_NS_DIR: p('ns'),
      // Belt and braces beside the registry mirrors: any registry connection goes to a dead proxy.
      HTTP_PROXY: `http://${DEAD_REGISTRY}`,
      HTTPS_PROXY: `http://${DEAD_REGISTRY}`,
      NO_PROXY: '',
    });
    await waitFor(containerd, 'serving its socket', 30_000, async () => fs.existsSync(containerdSocket) && (await ctr(['version'])).code === 0);
    const mountNs = fs.readlinkSync(`/proc/${containerd.pid}/ns/mnt`);
    if (mountNs === fs.readlinkSync('/proc/self/ns/mnt')) throw new Error('containerd did not get a mount namespace of its own');
    manifest.mountNs = mountNs;
    saveManifest();
    step('containerd');

    await importImageArchive(containerdSocket, archive);
    step('import');

    /* ---- kube-scheduler ---- */
    const [schedPort, kubeletPort, healthzPort] = (await freePorts(3)) as [number, number, number];
    const scheduler = launch(
      'kube-scheduler',
      bin('kube-scheduler'),
      [`--kubeconfig=${cp.kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${schedPort}`, '--v=1'],
      { ...process.env },
    );
    await waitFor(scheduler, 'healthy (/healthz)', 60_000, async () => (await httpsGet(`https://127.0.0.1:${schedPort}/healthz`, { insecure: true, timeoutMs: HTTP_TIMEOUT_MS })).status === 200);
    step('scheduler');

    /* ---- kubelet, in containerd's mount namespace ---- */
    const kubeletKubeconfig = p('kubelet', 'kubeconfig');
    fs.copyFileSync(cp.kubeconfig, kubeletKubeconfig);
    if (cp.server && cp.token) {
      stopDns = await serveClusterDns(ip, cp);
      step('dns');
    }
    const kubeletConfig = kubeletConfiguration({ dir, containerdSocket, cgroupName, port: kubeletPort, healthzPort, clusterDns: stopDns ? ip : undefined });
    fs.writeFileSync(p('kubelet', 'config.yaml'), JSON.stringify(kubeletConfig, null, 1));
    const kubelet = launch(
      'kubelet',
      'nsenter',
      [
        `--target=${containerd.pid}`,
        '--mount',
        '--',
        '/bin/sh',
        '-c',
        nodeShell,
        'sh',
        bin('kubelet'),
        `--config=${p('kubelet', 'config.yaml')}`,
        `--kubeconfig=${kubeletKubeconfig}`,
        `--root-dir=${p('kubelet')}`,
        `--cert-dir=${p('kubelet', 'pki')}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${ip}`,
        '--v=2',
      ],
      baseEnv,
    );
    let lastNode = '';
    await waitFor(
      kubelet,
      `registering node ${NODE_NAME} as Ready`,
      90_000,
      async () => {
        const r = await kubectl(['get', 'node', NODE_NAME, '-o', 'json']);
        if (r.code !== 0) return false;
        const node = JSON.parse(r.stdout) as { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } };
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        lastNode = ready ? `Ready=${ready.status}: ${ready.message ?? ''}` : 'no Ready condition';
        return ready?.status === 'True';
      },
      () => `\nnode: ${lastNode}\n--- last lines of ${path.join(logDir, 'containerd.log')} ---\n${tail(path.join(logDir, 'containerd.log'), 20)}`,
    );
    step('kubelet');
    // Without the node-lifecycle controller nobody removes the taint kubelet registers with.
    const taint = await kubectl(['taint', 'node', NODE_NAME, 'node.kubernetes.io/not-ready:NoSchedule-']);
    if (taint.code !== 0 && !/not found/.test(taint.stderr)) throw new Error(`removing the not-ready taint failed:\n${taint.stderr}`);

    /* ---- the API server (and KEDA's metrics adapter) at the node IP; kube-proxy for Services ---- */
    if (cp.publishOn) {
      await cp.publishOn(ip);
      step('publish');
    }
    if (cp.serviceCidr && fs.existsSync(bin('kube-proxy'))) {
      // kube-proxy's iptables chains have fixed names: two e2e nodes on one host would rewrite each other's
      // rules, and one's --cleanup would remove the other's. The second waits for this lock (held by a
      // recorded process, so it goes with the node, also when the test process is killed).
      // One process: the shell opens the lock file, flock(1) locks that open file, and the shell becomes the
      // sleep that keeps it open; killing this PID releases the lock.
      const lock = launch('kube-proxy-lock', 'sh', ['-c', 'exec 9>>"$1"; flock --exclusive 9; echo locked; exec sleep 2147483647', 'sh', KUBE_PROXY_LOCK], { PATH: process.env.PATH });
      // Released last, after kube-proxy's rules are gone (cleanupNodeSync).
      manifest.lock = manifest.pids.pop();
      saveManifest();
      let told = false;
      const since = Date.now();
      await waitFor(lock, `holding ${KUBE_PROXY_LOCK} (another e2e node on this host runs kube-proxy)`, 60 * 60_000, async () => {
        const locked = fs.readFileSync(lock.logFile, 'utf8').includes('\nlocked');
        if (!locked && !told && Date.now() - since > 2_000) {
          told = true;
          process.stderr.write(`asya-e2e node: waiting for ${KUBE_PROXY_LOCK}: another e2e node on this host runs kube-proxy\n`);
        }
        return locked;
      });
      const [proxyHealthPort, proxyMetricsPort] = (await freePorts(2)) as [number, number];
      fs.writeFileSync(p('kube-proxy.yaml'), JSON.stringify(kubeProxyConfiguration({ kubeconfig: cp.kubeconfig, ip, subnet, healthzPort: proxyHealthPort, metricsPort: proxyMetricsPort }), null, 1));
      manifest.kubeProxy = bin('kube-proxy');
      saveManifest();
      const proxy = launch('kube-proxy', bin('kube-proxy'), [`--config=${p('kube-proxy.yaml')}`, '--v=1'], { ...process.env });
      await waitFor(proxy, 'healthy (/healthz, rules synced)', 60_000, async () => (await httpStatus(`http://127.0.0.1:${proxyHealthPort}/healthz`, HTTP_TIMEOUT_MS)) === 200);
      step('kube-proxy');
    }

    if (process.env.ASYA_E2E_DEBUG === '1') {
      process.stderr.write(`asya-e2e node ${NODE_NAME} Ready at ${ip} (${JSON.stringify(timings)}), dir ${dir}\n`);
    }
    return { name: NODE_NAME, ip, subnet, bridge, cgroupRoot: `/${cgroupName}`, dir, logDir, containerdSocket, images: NODE_IMAGES, upstreamDir: artifacts.upstreamDir, timings, ctr, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The node of the e2e run, as globalSetup describes it to test workers (see cluster.ts). */
export function nodeEnv(node: KubeNode): Record<string, string> {
  return {
    ASYA_E2E_NODE_NAME: node.name,
    ASYA_E2E_NODE_IP: node.ip,
    ASYA_E2E_NODE_SUBNET: node.subnet,
    ASYA_E2E_NODE_DIR: node.dir,
    ASYA_E2E_CONTAINERD_SOCK: node.containerdSocket,
    ASYA_E2E_IMAGE_PAUSE: node.images.pause,
    ASYA_E2E_IMAGE_SIDECAR: node.images.sidecar,
    ASYA_E2E_IMAGE_PYTHON: node.images.python,
    ASYA_E2E_IMAGE_CREW: node.images.crew,
    ASYA_E2E_UPSTREAM_DIR: node.upstreamDir,
  };
}
