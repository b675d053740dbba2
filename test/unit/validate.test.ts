import { describe, expect, test } from '@jest/globals';
import { ActorIndex } from '../../src/api/actorIndex.js';
import type { AsyncActor } from '../../src/api/schema.js';
import { convertWorkloadType, defaultActor, validateActor } from '../../src/api/validate.js';
import { parseConfig } from '../../src/config/load.js';
import { formatFieldError } from '../../src/util/schemaChecker.js';

const config = parseConfig({
  transports: {
    rabbitmq: { type: 'rabbitmq', config: { host: 'rabbit' } },
    sqs: { type: 'sqs', config: { region: 'us-east-1', actorRoleArn: 'arn:aws:iam::1:role/actors' } },
    old: { enabled: false, type: 'rabbitmq', config: { host: 'old' } },
  },
});

function actor(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): AsyncActor {
  return {
    apiVersion: 'asya.sh/v1alpha1',
    kind: 'AsyncActor',
    metadata: { name: 'echo', namespace: 'team-a', ...metadata },
    spec: {
      transport: 'rabbitmq',
      workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'python:3.13' }] } } },
      ...spec,
    } as unknown as AsyncActor['spec'],
  };
}

const messages = (a: AsyncActor, ctx: Partial<Parameters<typeof validateActor>[1]> = {}) =>
  validateActor(a, { config, ...ctx }).errors.map(formatFieldError);

describe('defaults (seed values)', () => {
  test('a minimal actor gets every documented default', () => {
    const { errors, actor: d } = validateActor(actor(), { config });
    expect(errors).toEqual([]);
    expect(d.spec.scaling).toEqual({ enabled: false, minReplicas: 0, maxReplicas: 50, pollingInterval: 10, cooldownPeriod: 60, queueLength: 5 });
    expect(d.spec.timeout).toEqual({ processing: 300, gracefulShutdown: 30 });
    // No maxSize: nothing reads it (REFERENCE "What the real sidecar and runtime need").
    expect(d.spec.socket).toEqual({ path: '/var/run/asya/asya-runtime.sock' });
    expect(d.spec.workload).toMatchObject({ kind: 'Deployment', replicas: 1, pythonExecutable: 'python3' });
    expect(d.spec.sidecar).toBeUndefined();
  });
  test('defaults fill only what is missing', () => {
    const d = defaultActor(actor({ scaling: { enabled: true, maxReplicas: 7 } }));
    expect(d.spec.scaling).toMatchObject({ enabled: true, minReplicas: 0, maxReplicas: 7, queueLength: 5 });
  });
  test('validation does not modify its input', () => {
    const a = actor();
    const copy = structuredClone(a);
    validateActor(a, { config });
    expect(a).toEqual(copy);
  });
});

describe('rules of REFERENCE §1, each with its field path', () => {
  const cases: Array<[string, AsyncActor, string]> = [
    ['no asya-runtime', actor({ workload: { template: { spec: { containers: [{ name: 'main', image: 'x' }] } } } }), 'spec.workload.template.spec.containers: must contain a container named "asya-runtime"'],
    ['empty containers', actor({ workload: { template: { spec: { containers: [] } } } }), 'spec.workload.template.spec.containers: must contain a container named "asya-runtime"'],
    [
      'two asya-runtime',
      actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }, { name: 'asya-runtime', image: 'b' }] } } } }),
      'spec.workload.template.spec.containers[1].name: duplicate container name "asya-runtime" (also spec.workload.template.spec.containers[0])',
    ],
    [
      'user asya-sidecar',
      actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }, { name: 'asya-sidecar', image: 'b' }] } } } }),
      'spec.workload.template.spec.containers[1].name: "asya-sidecar" is reserved: the sidecar is injected; configure it with spec.sidecar',
    ],
    [
      'init asya-sidecar',
      actor({ workload: { template: { spec: { initContainers: [{ name: 'asya-sidecar', image: 'b' }], containers: [{ name: 'asya-runtime', image: 'a' }] } } } }),
      'spec.workload.template.spec.initContainers[0].name: "asya-sidecar" is reserved: the sidecar is injected; configure it with spec.sidecar',
    ],
    [
      'command set',
      actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', command: ['python'] }] } } } }),
      'spec.workload.template.spec.containers[0].command: must not be set: the command of asya-runtime is [python3, /opt/asya/asya_runtime.py] (set spec.workload.pythonExecutable to change the interpreter)',
    ],
    ['missing image', actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime' }] } } } }), 'spec.workload.template.spec.containers[0].image: is required'],
    ['missing name', actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }, { image: 'b' }] } } } }), 'spec.workload.template.spec.containers[1].name: is required'],
    ['bad kind', actor({ workload: { kind: 'Job', template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }] } } } }), 'spec.workload.kind: must be one of "Deployment", "StatefulSet"'],
    ['negative replicas', actor({ workload: { replicas: -1, template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }] } } } }), 'spec.workload.replicas: must be >= 0'],
    ['negative min', actor({ scaling: { minReplicas: -1 } }), 'spec.scaling.minReplicas: must be >= 0'],
    ['zero max', actor({ scaling: { maxReplicas: 0 } }), 'spec.scaling.maxReplicas: must be >= 1'],
    ['min > max', actor({ scaling: { minReplicas: 5, maxReplicas: 2 } }), 'spec.scaling.minReplicas: must be <= spec.scaling.maxReplicas (2)'],
    ['queueLength 0', actor({ scaling: { enabled: true, queueLength: 0 } }), 'spec.scaling.queueLength: must be >= 1'],
    ['metricType', actor({ scaling: { advanced: { metricType: 'Average', formula: 'x', target: '1' } } }), 'spec.scaling.advanced.metricType: must be one of "AverageValue", "Value", "Utilization"'],
    ['pull policy', actor({ sidecar: { imagePullPolicy: 'Sometimes' } }), 'spec.sidecar.imagePullPolicy: must be one of "Always", "IfNotPresent", "Never"'],
    ['negative timeout', actor({ timeout: { processing: -5 } }), 'spec.timeout.processing: must be >= 1'],
    // The sidecar parses ASYA_RUNTIME_TIMEOUT=0s as a zero deadline and fails every message.
    ['zero processing timeout', actor({ timeout: { processing: 0 } }), 'spec.timeout.processing: must be >= 1'],
    ['negative grace period', actor({ timeout: { gracefulShutdown: -1 } }), 'spec.timeout.gracefulShutdown: must be >= 0'],
    [
      'socket file name',
      actor({ socket: { path: '/tmp/sockets/app.sock' } }),
      'spec.socket.path: must end in /asya-runtime.sock: the sidecar and the runtime use that file name in the socket directory and cannot use another; use /var/run/asya/asya-runtime.sock',
    ],
    [
      'socket directly in /tmp',
      actor({ socket: { path: '/tmp/asya-runtime.sock' } }),
      'spec.socket.path: must not be directly in /tmp: the socket directory is a volume of its own (choose for example /var/run/asya/asya-runtime.sock)',
    ],
    [
      'socket in /',
      actor({ socket: { path: '/asya-runtime.sock' } }),
      'spec.socket.path: must not be directly in /: the socket directory is a volume of its own (choose for example /var/run/asya/asya-runtime.sock)',
    ],
    ['socket maxSize', actor({ socket: { maxSize: '1048576' } }), 'spec.socket.maxSize: is not supported: neither the sidecar nor the runtime limits the size of a message; remove it'],
    [
      'reserved volume',
      actor({ workload: { template: { spec: { volumes: [{ name: 'tmp', emptyDir: {} }], containers: [{ name: 'asya-runtime', image: 'a' }] } } } }),
      'spec.workload.template.spec.volumes[0].name: "tmp" is reserved for the injected volumes',
    ],
    [
      'reserved mount path',
      actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', volumeMounts: [{ name: 'x', mountPath: '/var/run/asya/' }] }] } } } }),
      'spec.workload.template.spec.containers[0].volumeMounts[0].mountPath: "/var/run/asya/" is reserved for the injected volumes',
    ],
    [
      'reserved env',
      actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', env: [{ name: 'ASYA_SOCKET_PATH', value: '/x' }] }] } } } }),
      'spec.workload.template.spec.containers[0].env[0].name: "ASYA_SOCKET_PATH" is set by the injection; use spec.socket instead',
    ],
    ['unknown transport', actor({ transport: 'kafka' }), 'spec.transport: transport "kafka" not found in operator configuration (enabled: rabbitmq, sqs)'],
    ['disabled transport', actor({ transport: 'old' }), 'spec.transport: transport "old" is disabled in operator configuration'],
    ['empty transport', actor({ transport: '' }), 'spec.transport: must not be empty'],
    ['formula without target', actor({ scaling: { advanced: { formula: 'ceil(queueLength / 10)' } } }), 'spec.scaling.advanced.target: is required when spec.scaling.advanced.formula is set'],
    [
      'claims on a Deployment',
      actor({ workload: { kind: 'Deployment', volumeClaimTemplates: [{ metadata: { name: 'data' } }], template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }] } } } }),
      'spec.workload.volumeClaimTemplates: is only allowed with kind StatefulSet (kind is Deployment)',
    ],
    ['unknown field (typo)', actor({ scaling: { minReplica: 1 } }), 'spec.scaling.minReplica: unknown field'],
    ['wrong type', actor({ scaling: { maxReplicas: 'ten' } }), 'spec.scaling.maxReplicas: must be of type integer'],
    ['bad quantity', actor({ sidecar: { resources: { limits: { cpu: 'lots' } } } }), 'spec.sidecar.resources.limits.cpu: must match ^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'],
    ['no workload', { ...actor(), spec: { transport: 'rabbitmq' } as AsyncActor['spec'] }, 'spec.workload: is required'],
    ['no name', actor({}, { name: undefined, generateName: 'x-' }), 'metadata.name: is required (the actor name names its queue; generateName is not supported)'],
    ['long name', actor({}, { name: 'a'.repeat(64) }), 'metadata.name: must be a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters) since it is used as a label value'],
    ['name too long for KEDA', actor({ scaling: { enabled: true } }, { name: 'a'.repeat(55) }), 'metadata.name: must be at most 54 characters when scaling is enabled (KEDA names its HPA keda-hpa-<name>, at most 63)'],
    [
      'SQS service account with IRSA',
      actor({ transport: 'sqs', workload: { template: { spec: { serviceAccountName: 'mine', containers: [{ name: 'asya-runtime', image: 'a' }] } } } }),
      'spec.workload.template.spec.serviceAccountName: must not be set: SQS actors run as ServiceAccount asya-<name> with the IRSA role of the operator configuration',
    ],
  ];
  test.each(cases)('%s', (_name, a, expected) => {
    expect(messages(a)).toContain(expected);
  });
  test('the valid base actor has no error (so each case above fails for its own reason)', () => {
    expect(messages(actor())).toEqual([]);
  });
});

describe('what upstream accepts and the real sidecar and runtime can run', () => {
  test("ASYA_ENABLE_VALIDATION may be set on an ordinary actor's runtime (upstream's fully-configured example does)", () => {
    const a = actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', env: [{ name: 'ASYA_ENABLE_VALIDATION', value: 'false' }] }] } } } });
    expect(messages(a)).toEqual([]);
  });
  test('an empty pythonExecutable means python3, as upstream', () => {
    const a = actor({ workload: { pythonExecutable: '', template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', command: ['x'] }] } } } });
    expect(messages(a)).toEqual([
      'spec.workload.template.spec.containers[0].command: must not be set: the command of asya-runtime is [python3, /opt/asya/asya_runtime.py] (set spec.workload.pythonExecutable to change the interpreter)',
    ]);
    expect(messages(actor({ workload: { pythonExecutable: 'my python', template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }] } } } }))).toEqual([
      'spec.workload.pythonExecutable: must match ^[^\\s]*$',
    ]);
  });
  test('the socket may live in a directory of its own, not under /tmp', () => {
    expect(messages(actor({ socket: { path: '/run/asya-sockets/asya-runtime.sock' } }))).toEqual([]);
    expect(messages(actor({ socket: { path: '/tmp/sockets/asya-runtime.sock' } }))).toEqual([
      'spec.socket.path: must not be under /tmp: an emptyDir is mounted there in both containers (choose for example /var/run/asya/asya-runtime.sock)',
    ]);
  });
  test('socket.maxSize, once defaulted by the CRD, passes an update that keeps it, with a warning', () => {
    const stored = actor({ socket: { path: '/var/run/asya/asya-runtime.sock', maxSize: '10485760' } });
    const r = validateActor(actor({ socket: { path: '/var/run/asya/asya-runtime.sock', maxSize: '10485760' }, scaling: { maxReplicas: 3 } }), { config, oldActor: stored });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toContain('spec.socket.maxSize has no effect: neither the sidecar nor the runtime limits the message size; remove it');
    // Changing it is setting it.
    expect(messages(actor({ socket: { maxSize: '20' } }), { oldActor: stored })).toContain(
      'spec.socket.maxSize: is not supported: neither the sidecar nor the runtime limits the size of a message; remove it',
    );
  });
  test('a grace period shorter than the processing timeout is a warning, not an error; the defaults are not warned about', () => {
    const r = validateActor(actor({ timeout: { processing: 600, gracefulShutdown: 60 } }), { config });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([
      'spec.timeout.gracefulShutdown (60s) is shorter than spec.timeout.processing (600s): a pod stopped by a scale-down is killed before a long message finishes, and that message is processed again elsewhere',
    ]);
    expect(validateActor(actor({ timeout: { processing: 60, gracefulShutdown: 60 } }), { config }).warnings).toEqual([]);
    expect(validateActor(actor(), { config }).warnings).toEqual([]);
  });
});

describe('what Kubernetes or KEDA would refuse later is refused at admission', () => {
  test.each([
    ['spec.workload.replicas', { workload: { replicas: 2 ** 31, template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }] } } } }],
    ['spec.scaling.maxReplicas', { scaling: { maxReplicas: 2 ** 31 } }],
    ['spec.scaling.pollingInterval', { scaling: { pollingInterval: 2 ** 31 } }],
    ['spec.scaling.cooldownPeriod', { scaling: { cooldownPeriod: 2 ** 31 } }],
    ['spec.timeout.gracefulShutdown', { timeout: { gracefulShutdown: 2 ** 31 } }],
  ])('%s above int32 (what the API server and KEDA store)', (path, spec) => {
    expect(messages(actor(spec))).toContain(`${path}: must be <= 2147483647`);
  });
  test('the pod template against the real PodSpec schema: env as an object, a number as a value', () => {
    const withEnv = (env: unknown) => actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', env }] } } } });
    expect(messages(withEnv({ ASYA_HANDLER: 'x.y' }))).toEqual(['spec.workload.template.spec.containers[0].env: must be of type array']);
    expect(messages(withEnv([{ name: 'N', value: 3 }]))).toEqual(['spec.workload.template.spec.containers[0].env[0].value: must be of type string']);
    expect(messages(withEnv([{ name: 'N', value: '3' }]))).toEqual([]);
    const withPort = actor({ workload: { template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', ports: [{ containerPort: 'http' }] }] } } } });
    expect(messages(withPort)).toEqual(['spec.workload.template.spec.containers[0].ports[0].containerPort: must be of type integer']);
  });
  test('int32 itself is accepted', () => {
    expect(messages(actor({ scaling: { maxReplicas: 2 ** 31 - 1, cooldownPeriod: 2 ** 31 - 1 } }))).toEqual([]);
  });
  test('a StatefulSet actor name over 52 characters (controller-revision-hash would overflow)', () => {
    const sts = (name: string) => actor({ workload: { kind: 'StatefulSet', template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }] } } } }, { name });
    expect(messages(sts('s'.repeat(53)))).toContain(
      'metadata.name: must be at most 52 characters with kind StatefulSet (its pods get the label controller-revision-hash=<name>-<hash>, at most 63)',
    );
    expect(messages(sts('s'.repeat(52)))).toEqual([]);
  });
  test('sidecar requests above its limits', () => {
    expect(messages(actor({ sidecar: { resources: { limits: { cpu: '100m', memory: '1Gi' }, requests: { cpu: '0.2', memory: '1024Mi' } } } }))).toEqual([
      'spec.sidecar.resources.requests.cpu: must be less than or equal to the cpu limit (100m): the API server refuses such a pod',
    ]);
  });
});

describe('queue names', () => {
  test('SQS queue names are at most 80 of [A-Za-z0-9_-]', () => {
    expect(messages(actor({ transport: 'sqs' }, { name: 'a'.repeat(50) }))).toEqual([]);
    // asya- + 63 = 68: fine; a dot is a valid Kubernetes name character but not an SQS one
    expect(messages(actor({ transport: 'sqs' }, { name: 'my.actor' }))).toContain(
      'metadata.name: gives SQS queue name "asya-my.actor", which must be 1 to 80 of [A-Za-z0-9_-]',
    );
  });
  test('two actors in different namespaces may not share a queue; the same namespace (an update) may', () => {
    const index = new ActorIndex();
    index.upsert(actor({}, { namespace: 'team-b' }));
    expect(messages(actor(), { actors: index })).toContain(
      'metadata.name: queue "asya-echo" on transport "rabbitmq" is already used by actor team-b/echo; queue names do not include the namespace, choose another name',
    );
    expect(messages(actor({}, { namespace: 'team-b' }), { actors: index })).toEqual([]);
    // Another transport has its own queues.
    const sqsIndex = new ActorIndex();
    sqsIndex.upsert(actor({ transport: 'sqs' }, { namespace: 'team-b' }));
    expect(messages(actor(), { actors: sqsIndex })).toEqual([]);
  });
});

describe('all violations in one answer', () => {
  test('every error of one object is reported, not just the first', () => {
    const a = actor({
      transport: 'kafka',
      scaling: { minReplicas: 9, maxReplicas: 3, advanced: { formula: 'x' } },
      workload: { kind: 'Deployment', volumeClaimTemplates: [], template: { spec: { containers: [{ name: 'asya-runtime', image: 'a', command: ['x'] }] } } },
    });
    const paths = validateActor(a, { config }).errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'spec.transport',
        'spec.scaling.minReplicas',
        'spec.scaling.advanced.target',
        'spec.workload.volumeClaimTemplates',
        'spec.workload.template.spec.containers[0].command',
      ]),
    );
    expect(paths.length).toBeGreaterThanOrEqual(5);
  });
});

describe('UPDATE', () => {
  test('spec.transport is immutable', () => {
    const old = actor();
    expect(messages(actor({ transport: 'sqs' }), { oldActor: old })).toContain(
      'spec.transport: is immutable (was "rabbitmq"); delete and recreate the actor to move it to another transport',
    );
    expect(messages(actor({ scaling: { maxReplicas: 3 } }), { oldActor: old })).toEqual([]);
  });
});

describe('workload.type (older spelling of kind)', () => {
  test('is converted to kind with a warning', () => {
    const a = actor({ workload: { type: 'StatefulSet', template: { spec: { containers: [{ name: 'asya-runtime', image: 'a' }] } } } });
    const r = validateActor(a, { config });
    expect(r.errors).toEqual([]);
    expect(r.actor.spec.workload.kind).toBe('StatefulSet');
    expect((r.actor.spec.workload as Record<string, unknown>).type).toBeUndefined();
    expect(r.warnings[0]).toMatch(/spec.workload.type is deprecated: converted to spec.workload.kind: StatefulSet/);
  });
  test('the API server default kind=Deployment does not conflict with type', () => {
    const a = actor({ workload: { kind: 'Deployment', type: 'StatefulSet', template: { spec: { containers: [] } } } });
    expect(convertWorkloadType(a).errors).toEqual([]);
    expect(a.spec.workload.kind).toBe('StatefulSet');
  });
  test('a non-default kind that disagrees with type is an error', () => {
    const a = actor({ workload: { kind: 'StatefulSet', type: 'Deployment', template: { spec: { containers: [] } } } });
    expect(convertWorkloadType(a).errors.map(formatFieldError)).toEqual(['spec.workload.type: conflicts with spec.workload.kind "StatefulSet"; remove the deprecated type']);
  });
});

describe('hostile shapes never throw', () => {
  const shapes: unknown[] = [null, 42, 'x', [], {}, { spec: null }, { spec: [] }, { spec: { workload: null } }, { spec: { workload: { template: { spec: { containers: 'x' } } } } }, { metadata: 'x', spec: {} }, { spec: { workload: { template: { spec: { containers: [null, 1, 'a'] } } } } }];
  test.each(shapes.map((s) => [JSON.stringify(s), s]))('%s is refused with errors', (_n, s) => {
    const r = validateActor(s as AsyncActor, { config });
    expect(r.errors.length).toBeGreaterThan(0);
  });
});
