// The e2e node (support/node.ts): a real kubelet with containerd, runc and a CNI bridge, joined to the control
// plane, running the images the suite writes itself (no registry). Every pod of this file is created at once in
// beforeAll, so the tests wait for their pods in parallel; each test fails if the kubelet behaviour it names
// breaks.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MotoServer } from '../support/moto.js';
import { RabbitNode } from '../support/rabbitmq.js';
import { applyObjects, getJson, kubectl, kubectlOk, node, waitFor } from './support/cluster.js';

const NS = 'e2e-node';
/** Nothing serves these: with the registry mirror on a dead loopback port, pulling fails at once. */
const MISSING_IMAGE = 'registry.example.com/asya/missing:1.0';
const HUB_IMAGE = 'python:3.13-slim';
const DEAD_REGISTRY = '127.0.0.1:1';

let hostDir: string;
let tcpServer: net.Server;
let tcpPort = 0;
const tcpPeers: string[] = [];
let rabbit: RabbitNode;
let moto: MotoServer;

type Pod = any;
const getPod = (name: string): Promise<Pod> => getJson<Pod>(['pod', name, '-n', NS]);

/** Waits until `pred` holds for pod `name`; the error names the pod's last status. */
async function waitPod(name: string, what: string, pred: (p: Pod) => boolean, timeoutMs = 30_000): Promise<Pod> {
  let last: Pod;
  try {
    return await waitFor(
      `${name}: ${what}`,
      async () => {
        last = await getPod(name);
        return pred(last) ? last : undefined;
      },
      timeoutMs,
      250,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlast status of ${name}: ${JSON.stringify(last?.status, null, 1)}`);
  }
}

const container = (p: Pod, name: string): any => p.status?.containerStatuses?.find((c: any) => c.name === name);
const isRunning = (p: Pod, name: string): boolean => Boolean(container(p, name)?.state?.running);
const waitLog = (name: string, c: string | undefined, re: RegExp, timeoutMs = 30_000): Promise<string> =>
  waitFor(`${name}${c ? `/${c}` : ''} to log ${re}`, async () => {
    const r = await kubectl(['logs', name, '-n', NS, ...(c ? ['-c', c] : [])]);
    return r.code === 0 && re.test(r.stdout) ? r.stdout : undefined;
  }, timeoutMs, 300);

const py = (script: string): string[] => ['python3', '-c', script];

/** A pod of the python image; `spec` is merged over a single container named `main`. */
function pod(name: string, spec: Record<string, unknown>, main: Record<string, unknown> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { 'e2e-node': name } },
    spec: {
      terminationGracePeriodSeconds: 2,
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: node.images.python, imagePullPolicy: 'IfNotPresent', ...main }],
      ...spec,
    },
  };
}

const SLEEP = 'import time\nwhile True: time.sleep(3600)';

function pods(): Pod[] {
  const graceful = (name: string, grace: number, handlerSeconds: number): Pod =>
    pod(
      name,
      {
        terminationGracePeriodSeconds: grace,
        volumes: [{ name: 'out', hostPath: { path: hostDir, type: 'Directory' } }],
      },
      {
        volumeMounts: [{ name: 'out', mountPath: '/out' }],
        command: py(
          [
            'import signal, sys, time',
            `out = open('/out/${name}.log', 'a', buffering=1)`,
            'def on_term(signum, frame):',
            '    out.write(f"term {time.time()}\\n")',
            `    time.sleep(${handlerSeconds})`,
            '    out.write(f"done {time.time()}\\n")',
            '    sys.exit(0)',
            'signal.signal(signal.SIGTERM, on_term)',
            'out.write("started\\n")',
            SLEEP,
          ].join('\n'),
        ),
      },
    );
  return [
    pod('runner', {}, { command: py('import sys, time\nprint("hello from", sys.version, flush=True)\n' + SLEEP) }),
    pod('missing', {}, { image: MISSING_IMAGE }),
    pod('missing-hub', {}, { image: HUB_IMAGE }),
    pod('crash', {}, { command: ['sh', '-c', 'echo crashing; exit 1'] }),
    // Two containers share an emptyDir: the server writes a file and serves a unix socket in it.
    pod('shared', {
      volumes: [{ name: 'shared', emptyDir: {} }],
      containers: [
        {
          name: 'server',
          image: node.images.python,
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          command: py(
            [
              'import os, socket',
              "open('/shared/hello.txt', 'w').write('written-by-server')",
              's = socket.socket(socket.AF_UNIX)',
              "s.bind('/shared/app.sock.tmp'); os.rename('/shared/app.sock.tmp', '/shared/app.sock'); s.listen()",
              'while True:',
              '    c, _ = s.accept()',
              "    c.sendall(b'pong:' + c.recv(100)); c.close()",
            ].join('\n'),
          ),
        },
        {
          name: 'client',
          image: node.images.python,
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          command: py(
            [
              'import os, socket, time',
              "while not os.path.exists('/shared/app.sock'): time.sleep(0.1)",
              's = socket.socket(socket.AF_UNIX)',
              "s.connect('/shared/app.sock'); s.sendall(b'ping')",
              "reply = s.recv(100).decode()",
              "print(f\"file={open('/shared/hello.txt').read()} socket={reply}\", flush=True)",
              SLEEP,
            ].join('\n'),
          ),
        },
      ],
    }),
    // A ConfigMap key mounted as one file (subPath) beside what the image has, and a Secret key as env.
    pod(
      'config',
      { volumes: [{ name: 'cfg', configMap: { name: 'node-cfg' } }] },
      {
        volumeMounts: [{ name: 'cfg', mountPath: '/etc/app/app.conf', subPath: 'app.conf' }],
        env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'node-secret', key: 'password' } } }],
        command: [
          'sh',
          '-c',
          'echo "conf=$(cat /etc/app/app.conf) entries=$(ls -A /etc/app | tr "\\n" ,) regular=$(test -f /etc/app/app.conf && echo yes) secret=$PASSWORD"; exec sleep 3600',
        ],
      },
    ),
    // Ready only once its exec probe finds /tmp/ready, written 3 s after start; the other never.
    pod(
      'probe',
      {},
      {
        command: ['sh', '-c', 'sleep 3; touch /tmp/ready; exec sleep 3600'],
        readinessProbe: { exec: { command: ['test', '-e', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
      },
    ),
    pod(
      'probe-never',
      {},
      { command: ['sleep', '3600'], readinessProbe: { exec: { command: ['test', '-e', '/tmp/never'] }, periodSeconds: 1 } },
    ),
    // SIGTERM handlers that need 2 s: one pod grants 10 s, the other 1 s (killed before it is done).
    graceful('graceful', 10, 2),
    graceful('impatient', 1, 5),
    // A native sidecar (init container with restartPolicy Always): started, and its startup probe passed,
    // before the main container starts.
    pod('native', {
      volumes: [{ name: 'shared', emptyDir: {} }],
      initContainers: [
        {
          name: 'side',
          image: node.images.python,
          restartPolicy: 'Always',
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          command: py(`import time\nopen('/shared/side-started', 'w').write(str(time.time()))\n${SLEEP}`),
          startupProbe: { exec: { command: ['test', '-e', '/shared/side-started'] }, periodSeconds: 1 },
        },
      ],
      containers: [
        {
          name: 'main',
          image: node.images.python,
          volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          command: ['sh', '-c', 'if test -e /shared/side-started; then echo sidecar-first=yes; else echo sidecar-first=no; fi; exec sleep 3600'],
        },
      ],
    }),
    // Host services on the node IP (the pod network's gateway): a TCP server of this test process, RabbitMQ
    // (RabbitNode's alsoListenOn) and moto (MotoServer's host).
    pod(
      'reach-host',
      {},
      {
        env: [
          { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'TCP_PORT', value: String(tcpPort) },
          { name: 'AMQP_PORT', value: String(rabbit.port) },
          { name: 'MOTO_PORT', value: String(moto.port) },
        ],
        command: py(
          [
            'import os, socket, time, urllib.request',
            "host = os.environ['HOST_IP']",
            'def talk(port, data):',
            '    for _ in range(300):',
            '        try:',
            '            s = socket.create_connection((host, int(port)), timeout=5)',
            '            s.sendall(data); r = s.recv(64); s.close(); return r',
            '        except OSError: time.sleep(0.2)',
            "    return b'unreachable'",
            // Loopback inside the pod (containerd's CNI loopback plugin).
            'srv = socket.create_server(("127.0.0.1", 0)); c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()',
            "a.sendall(b'up'); print('lo=' + c.recv(2).decode(), flush=True)",
            "print('tcp=' + talk(os.environ['TCP_PORT'], b'ping').decode(), flush=True)",
            "print('amqp=' + talk(os.environ['AMQP_PORT'], b'AMQP\\x00\\x00\\x09\\x01')[:7].hex(), flush=True)",
            "req = urllib.request.Request(f\"http://{host}:{os.environ['MOTO_PORT']}/\", data=b'Action=ListQueues&Version=2012-11-05')",
            "print('moto=' + str(urllib.request.urlopen(req, timeout=10).status), flush=True)",
            SLEEP,
          ].join('\n'),
        ),
      },
    ),
  ];
}

beforeAll(async () => {
  hostDir = mkdtempSync(join(tmpdir(), 'asya-e2e-node-out-'));
  tcpServer = net.createServer((s) => {
    tcpPeers.push(s.remoteAddress ?? '');
    s.once('data', (d) => s.end(`pong:${d.toString()}`));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    tcpServer.once('error', reject);
    tcpServer.listen(0, node.ip, () => resolve());
  });
  tcpPort = (tcpServer.address() as net.AddressInfo).port;
  const ns = kubectl(['create', 'namespace', NS]);
  [rabbit, moto] = await Promise.all([RabbitNode.start({ alsoListenOn: node.ip }), MotoServer.start({ host: node.ip }), ns]);
  await waitFor('ServiceAccount default in ' + NS, async () => (await kubectl(['get', 'sa', 'default', '-n', NS])).code === 0);
  await applyObjects([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'node-cfg', namespace: NS }, data: { 'app.conf': 'x=1', 'other.conf': 'y=2' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'node-secret', namespace: NS }, stringData: { password: 'hunter2' } },
  ]);
  await applyObjects(pods());
}, 120_000);

afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
  await new Promise<void>((r) => (tcpServer ? tcpServer.close(() => r()) : r()));
  await Promise.all([rabbit?.destroy(), moto?.stop()]);
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
});

describe('the e2e node', () => {
  test('is Ready, untainted, at the gateway IP, with the imported images', async () => {
    const n = await getJson<any>(['node', node.name]);
    expect(n.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
    expect(n.spec.taints ?? []).toEqual([]);
    expect(n.spec.unschedulable).toBeFalsy();
    expect(n.status.addresses).toContainEqual({ type: 'InternalIP', address: node.ip });
    expect(n.status.nodeInfo.kubeletVersion).toBe('v1.37.2');
    expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
    const names = n.status.images.flatMap((i: any) => i.names);
    for (const ref of [node.images.pause, node.images.sidecar, node.images.python, node.images.crew]) expect(names).toContain(`docker.io/library/${ref}`);
  });

  test('runs a pod of the python image within seconds, on the pod network', async () => {
    const p = await waitPod('runner', 'Running and ready', (x) => isRunning(x, 'main') && container(x, 'main').ready, 30_000);
    // Created together with a dozen other pods; started within seconds (timestamps of the API server, 1 s steps).
    expect(Date.parse(container(p, 'main').state.running.startedAt) - Date.parse(p.metadata.creationTimestamp)).toBeLessThanOrEqual(15_000);
    expect(p.spec.nodeName).toBe(node.name);
    expect(p.status.hostIP).toBe(node.ip);
    const prefix = node.subnet.split('.').slice(0, 3).join('.') + '.';
    expect(p.status.podIP.startsWith(prefix)).toBe(true);
    expect(p.status.podIP).not.toBe(node.ip);
    // Its sandbox is the suite's pause image (containerd's sandbox_image).
    const sandboxes = await new Promise<string>((resolve, reject) =>
      execFile('ctr', ['--address', node.containerdSocket, '-n', 'k8s.io', 'containers', 'ls'], (err, out) => (err ? reject(err) : resolve(out))),
    );
    expect(sandboxes).toContain(`docker.io/library/${node.images.pause}`);
  });

  test('fails a pull at once (ErrImagePull / ImagePullBackOff) without leaving the machine', async () => {
    for (const name of ['missing', 'missing-hub']) {
      const p = await waitPod(name, 'ErrImagePull or ImagePullBackOff', (x) => ['ErrImagePull', 'ImagePullBackOff'].includes(container(x, 'main')?.state?.waiting?.reason), 30_000);
      expect(p.status.phase).toBe('Pending');
      // The failed pull's event: the registry (registry.example.com or Docker Hub) was asked at the dead
      // mirror on loopback.
      const events = await waitFor(`the Failed event of ${name}`, async () => {
        const list = await getJson<any>(['events', '-n', NS, '--field-selector', `involvedObject.name=${name},reason=Failed`]);
        return list.items.length > 0 ? (list.items as any[]) : undefined;
      });
      expect(events.map((e) => e.message).join('\n')).toContain(DEAD_REGISTRY);
      // At once: no timeout to wait for, the first attempt failed within seconds of the pod's creation.
      const first = Math.min(...events.map((e) => Date.parse(e.firstTimestamp ?? e.eventTime)));
      expect(first - Date.parse(p.metadata.creationTimestamp)).toBeLessThanOrEqual(15_000);
    }
  });

  test('shows CrashLoopBackOff for a container that exits 1', async () => {
    const p = await waitPod('crash', 'CrashLoopBackOff', (x) => container(x, 'main')?.state?.waiting?.reason === 'CrashLoopBackOff', 60_000);
    const c = container(p, 'main');
    expect(c.restartCount).toBeGreaterThanOrEqual(1);
    expect(c.lastState.terminated.exitCode).toBe(1);
    expect(await kubectlOk(['logs', 'crash', '-n', NS, '--previous'])).toContain('crashing');
  });

  test('shares an emptyDir between two containers (a file and a unix socket)', async () => {
    expect(await waitLog('shared', 'client', /file=/)).toContain('file=written-by-server socket=pong:ping');
  });

  test('mounts one ConfigMap key with subPath', async () => {
    const out = await waitLog('config', undefined, /conf=/);
    expect(out).toContain('conf=x=1 ');
    // Only the key asked for, as a regular file (not the ConfigMap's ..data symlinks, not other.conf).
    expect(out).toContain('entries=app.conf, regular=yes');
  });

  test('sets an env variable from a secretKeyRef', async () => {
    expect(await waitLog('config', undefined, /secret=/)).toMatch(/secret=hunter2$/m);
    const p = await getPod('config');
    expect(JSON.stringify(p.spec)).not.toContain('hunter2');
  });

  test('makes a pod Ready only when its exec readiness probe passes', async () => {
    const p = await waitPod('probe', 'Ready', (x) => x.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'), 30_000);
    const startedAt = Date.parse(container(p, 'main').state.running.startedAt);
    const readyAt = Date.parse(p.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime);
    // /tmp/ready appears 3 s after the start (timestamps have 1 s resolution).
    expect(readyAt - startedAt).toBeGreaterThanOrEqual(2_000);
    // The other probe never passes: still not Ready after 3 s of running with a probe every second.
    const never = await waitPod('probe-never', 'running for 3 s', (x) => isRunning(x, 'main') && Date.now() - Date.parse(container(x, 'main').state.running.startedAt) > 3_000);
    expect(container(never, 'main').ready).toBe(false);
    expect(never.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('False');
  });

  test('honours terminationGracePeriodSeconds (SIGTERM first, SIGKILL when the grace period is over)', async () => {
    for (const name of ['graceful', 'impatient']) {
      await waitFor(`${name} to install its SIGTERM handler`, async () => {
        try {
          return readFileSync(join(hostDir, `${name}.log`), 'utf8').includes('started');
        } catch {
          return false;
        }
      });
    }
    await kubectlOk(['delete', 'pod', 'graceful', 'impatient', '-n', NS, '--wait=false']);
    await waitFor('both pods gone', async () => (await kubectl(['get', 'pod', 'graceful', 'impatient', '-n', NS, '--ignore-not-found', '-o', 'name'])).stdout.trim() === '', 30_000);
    const read = (name: string): string[] => readFileSync(join(hostDir, `${name}.log`), 'utf8').trim().split('\n');
    const graceful = read('graceful');
    expect(graceful[0]).toBe('started');
    expect(graceful[1]).toMatch(/^term /);
    expect(graceful[2]).toMatch(/^done /);
    const took = Number(graceful[2]!.split(' ')[1]) - Number(graceful[1]!.split(' ')[1]);
    expect(took).toBeGreaterThanOrEqual(1.9);
    // 1 s of grace for a 5 s handler: SIGTERM arrived, SIGKILL came before "done".
    expect(read('impatient')).toEqual(['started', expect.stringMatching(/^term /)]);
  });

  test('starts a native sidecar (init container, restartPolicy Always) before the main container', async () => {
    const p = await waitPod('native', 'both containers running', (x) => isRunning(x, 'main') && x.status?.initContainerStatuses?.[0]?.state?.running);
    const side = p.status.initContainerStatuses[0];
    expect(side.name).toBe('side');
    expect(side.started).toBe(true);
    expect(Date.parse(container(p, 'main').state.running.startedAt)).toBeGreaterThanOrEqual(Date.parse(side.state.running.startedAt));
    expect(await waitLog('native', 'main', /sidecar-first=/)).toContain('sidecar-first=yes');
  });

  test('serves kubectl logs and kubectl exec (through the API server to the kubelet)', async () => {
    await waitPod('runner', 'Running', (x) => isRunning(x, 'main'));
    expect(await waitLog('runner', undefined, /hello from/)).toMatch(/^hello from 3\.13\./m);
    expect((await kubectlOk(['exec', 'runner', '-n', NS, '--', 'python3', '-c', 'print(6*7)'])).trim()).toBe('42');
    expect((await kubectlOk(['exec', '-i', 'runner', '-n', NS, '--', 'cat'], { input: 'through stdin' })).trim()).toBe('through stdin');
    const failed = await kubectl(['exec', 'runner', '-n', NS, '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
  });

  test('lets pods reach host services on the gateway IP (TCP, RabbitMQ, moto)', async () => {
    const out = await waitLog('reach-host', undefined, /moto=/, 60_000);
    expect(out).toContain('lo=up');
    expect(out).toContain('tcp=pong:ping');
    // AMQP 0-9-1 Connection.Start: a method frame (1) on channel 0, class 10, method 10.
    expect(out).toMatch(/^amqp=0100000000/m);
    expect(out).toContain('moto=200');
    const p = await getPod('reach-host');
    expect(tcpPeers).toContain(p.status.podIP);
  });

  test("adds an image of a test's own: the python image plus its files (node.addPythonImage)", async () => {
    await node.addPythonImage('asya-python:node-e2e', { 'added.py': 'VALUE = "from an added module"\n', '/etc/added.conf': 'z=3\n' });
    await applyObjects([pod('added', {}, { image: 'asya-python:node-e2e', command: ['sh', '-c', 'python3 -c "import added, echo; print(added.VALUE)" 2>&1; cat /etc/added.conf; exec sleep 3600'] })]);
    const out = await waitLog('added', undefined, /z=3/);
    // The added module, and the default handlers are not in this image (echo fails to import).
    expect(out).toContain('z=3');
    expect(out).toContain("No module named 'echo'");
    const direct = await kubectlOk(['exec', 'added', '-n', NS, '--', 'python3', '-c', 'import added; print(added.VALUE)']);
    expect(direct.trim()).toBe('from an added module');
  });
});

describe('the Asya images on the node', () => {
  // The upstream sidecar and runtime with a test handler: an envelope published to the actor's queue comes out
  // of the happy-end queue with the handler's result, and a failing handler's out of error-end.
  let conn: amqp.ChannelModel;
  let ch: amqp.Channel;
  const exchange = 'asya';

  const actorPod = (actor: string, handler: string): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `actor-${actor}`, namespace: NS },
    spec: {
      terminationGracePeriodSeconds: 2,
      automountServiceAccountToken: false,
      volumes: [
        { name: 'socket-dir', emptyDir: {} },
        { name: 'runtime', configMap: { name: 'asya-runtime' } },
      ],
      containers: [
        {
          name: 'asya-runtime',
          image: node.images.python,
          command: ['python3', '/opt/asya/asya_runtime.py'],
          env: [
            { name: 'ASYA_HANDLER', value: handler },
            { name: 'ASYA_SOCKET_DIR', value: '/var/run/asya' },
          ],
          volumeMounts: [
            { name: 'socket-dir', mountPath: '/var/run/asya' },
            { name: 'runtime', mountPath: '/opt/asya/asya_runtime.py', subPath: 'asya_runtime.py' },
          ],
        },
        {
          name: 'asya-sidecar',
          image: node.images.sidecar,
          env: [
            { name: 'ASYA_ACTOR_NAME', value: actor },
            { name: 'ASYA_TRANSPORT', value: 'rabbitmq' },
            { name: 'ASYA_RABBITMQ_URL', value: rabbit.urlAt(node.ip) },
            { name: 'ASYA_SOCKET_DIR', value: '/var/run/asya' },
          ],
          volumeMounts: [{ name: 'socket-dir', mountPath: '/var/run/asya' }],
        },
      ],
    },
  });

  beforeAll(async () => {
    conn = await amqp.connect(rabbit.url);
    ch = await conn.createChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    for (const q of ['echo', 'fail', 'happy-end', 'error-end']) {
      await ch.assertQueue(`asya-${q}`, { durable: true });
      await ch.bindQueue(`asya-${q}`, exchange, q);
    }
    const runtimeScript = readFileSync(join(node.upstreamDir, 'src', 'asya-runtime', 'asya_runtime.py'), 'utf8');
    await applyObjects([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'asya-runtime', namespace: NS }, data: { 'asya_runtime.py': runtimeScript } },
      actorPod('echo', 'echo.process'),
      actorPod('fail', 'fail.process'),
    ]);
  }, 60_000);

  afterAll(async () => {
    await conn?.close();
  });

  async function nextMessage(queue: string, timeoutMs = 45_000): Promise<any> {
    return waitFor(`a message on ${queue}`, async () => {
      const m = await ch.get(queue, { noAck: true });
      return m ? JSON.parse(m.content.toString('utf8')) : undefined;
    }, timeoutMs, 250);
  }

  test('the sidecar and the python runtime run the echo handler: the result reaches happy-end', async () => {
    ch.publish(exchange, 'echo', Buffer.from(JSON.stringify({ id: 'env-echo-1', route: { actors: ['echo'], current: 0 }, payload: { n: 1 } })), { persistent: true });
    const out = await nextMessage('asya-happy-end');
    expect(out.id).toBe('env-echo-1');
    expect(out.payload).toEqual({ n: 1, echoed: true });
  });

  test('a failing handler sends the envelope to error-end', async () => {
    ch.publish(exchange, 'fail', Buffer.from(JSON.stringify({ id: 'env-fail-1', route: { actors: ['fail'], current: 0 }, payload: { n: 2 } })), { persistent: true });
    const out = await nextMessage('asya-error-end');
    expect(out.id).toBe('env-fail-1');
    expect(JSON.stringify(out)).toContain('fail.process refuses every payload');
  });
});
