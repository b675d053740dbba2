// Table tests of the pure status functions: every failing reason of seed 000 (init and regular containers,
// phase Failed not counted) and every display status of seed 003 plus ours.
import { describe, expect, it } from '@jest/globals';
import { DISPLAY_STATUSES, type DisplayStatus } from '../../src/api/schema.js';
import { FAILING_REASONS, countPods, displayStatus, mergeConditions, type PodLike, type StatusFacts } from '../../src/reconciler/status.js';

const running = (name = 'p'): PodLike => ({
  metadata: { name },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'asya-runtime', ready: true, state: { running: {} } }] },
});
const waiting = (reason: string, opts: { init?: boolean; container?: string; phase?: string } = {}): PodLike => {
  const cs = [{ name: opts.container ?? 'asya-runtime', state: { waiting: { reason, message: `${reason} happened` } } }];
  return {
    metadata: { name: 'w' },
    status: { phase: opts.phase ?? (opts.init ? 'Pending' : 'Running'), conditions: [{ type: 'Ready', status: 'False' }], ...(opts.init ? { initContainerStatuses: cs } : { containerStatuses: cs }) },
  };
};

type FailingReason = (typeof FAILING_REASONS)[number];

describe('countPods (seed 000 FAILING)', () => {
  it.each(FAILING_REASONS.flatMap((r): Array<[FailingReason, boolean]> => [[r, false], [r, true]]))('%s in %s init container counts as failing', (reason, init) => {
    const c = countPods([waiting(reason, { init })]);
    expect(c).toMatchObject({ failing: 1, running: 0, pending: 0, total: 1 });
    expect(c.failures[0]).toMatchObject({ reason, init, container: 'asya-runtime' });
  });

  it.each(FAILING_REASONS)('%s in a pod of phase Failed is not counted at all', (reason) => {
    expect(countPods([waiting(reason, { phase: 'Failed' })])).toMatchObject({ failing: 0, total: 0 });
  });

  it('ContainerCreating and PodInitializing are pending, not failing', () => {
    expect(countPods([waiting('ContainerCreating'), waiting('PodInitializing', { init: true })])).toMatchObject({ failing: 0, pending: 2 });
  });

  it('counts running, pending, unschedulable; skips Succeeded and terminating pods', () => {
    const unschedulable: PodLike = { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } };
    const c = countPods([running('a'), running('b'), { status: { phase: 'Pending' } }, unschedulable, { status: { phase: 'Succeeded' } }, { ...running('c'), metadata: { name: 'c', deletionTimestamp: 'x' } }]);
    expect(c).toMatchObject({ running: 2, pending: 2, failing: 0, total: 4, unschedulable: 1 });
  });

  it('a Running pod that is not Ready is pending', () => {
    expect(countPods([{ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }])).toMatchObject({ running: 0, pending: 1 });
  });
});

const base: StatusFacts = {
  deleting: false,
  configError: false,
  transportReady: true,
  workloadError: false,
  workloadExists: true,
  rollingOut: false,
  specReplicas: 1,
  scalingEnabled: true,
  scalingReady: true,
  pods: countPods([running()]),
};

const cases: Array<[DisplayStatus, string, Partial<StatusFacts>]> = [
  ['Running', 'ready pods, nothing failing', {}],
  ['Napping', 'scaled to zero (KEDA, minReplicas 0)', { specReplicas: 0, pods: countPods([]) }],
  ['Creating', 'no workload yet', { workloadExists: false, pods: countPods([]) }],
  ['Creating', 'pods starting', { pods: countPods([{ status: { phase: 'Pending' } }]) }],
  ['Updating', 'rollout of a new template', { rollingOut: true }],
  ['Degraded', 'some pods fail while others serve', { pods: countPods([running(), waiting('CrashLoopBackOff')]) }],
  ['Degraded', 'fewer ready pods than asked and none starting', { specReplicas: 3, pods: countPods([running()]) }],
  ['Terminating', 'being deleted', { deleting: true }],
  ['TransportError', 'broker down', { transportReady: false }],
  ['ConfigError', 'transport not configured', { configError: true, transportReady: false }],
  ['WorkloadError', 'the workload cannot be written', { workloadError: true }],
  ['ScalingError', 'KEDA missing', { scalingReady: false }],
  ['RuntimeError', 'runtime crash-looping', { pods: countPods([waiting('CrashLoopBackOff')]) }],
  ['RuntimeError', 'init container failing', { pods: countPods([waiting('CreateContainerConfigError', { init: true, container: 'setup' })]) }],
  ['SidecarError', 'sidecar crash-looping', { pods: countPods([waiting('CrashLoopBackOff', { container: 'asya-sidecar' })]) }],
  ['SidecarError', 'native sidecar (init) failing', { pods: countPods([waiting('RunContainerError', { container: 'asya-sidecar', init: true })]) }],
  ['ImagePullError', 'ImagePullBackOff', { pods: countPods([waiting('ImagePullBackOff')]) }],
  ['ImagePullError', 'ErrImagePull', { pods: countPods([waiting('ErrImagePull')]) }],
  ['ImagePullError', 'InvalidImageName of the sidecar', { pods: countPods([waiting('InvalidImageName', { container: 'asya-sidecar' })]) }],
  ['PendingResources', 'unschedulable', { pods: countPods([{ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } }]) }],
];

describe('displayStatus (seed 003)', () => {
  it.each(cases)('%s: %s', (expected, _why, facts) => {
    expect(displayStatus({ ...base, ...facts })).toBe(expected);
  });

  it('covers every display status of the CRD', () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(DISPLAY_STATUSES));
  });

  it('Napping is not an error even with scaling enabled and minReplicas 0 (upstream shows an error)', () => {
    expect(displayStatus({ ...base, specReplicas: 0, pods: countPods([]) })).toBe('Napping');
  });
});

describe('mergeConditions', () => {
  const t0 = '2026-01-01T00:00:00Z';
  const t1 = '2026-01-01T01:00:00Z';
  it('keeps lastTransitionTime when only reason or message change, moves it on a flip', () => {
    const first = mergeConditions(undefined, [{ type: 'TransportReady', status: 'False', reason: 'BrokerUnreachable', message: 'a' }], t0, 1);
    const same = mergeConditions(first, [{ type: 'TransportReady', status: 'False', reason: 'AuthenticationFailed', message: 'b' }], t1, 2);
    expect(same[0]).toMatchObject({ lastTransitionTime: t0, reason: 'AuthenticationFailed', observedGeneration: 2 });
    const flipped = mergeConditions(same, [{ type: 'TransportReady', status: 'True', reason: 'QueueReady', message: 'c' }], t1, 2);
    expect(flipped[0]!.lastTransitionTime).toBe(t1);
  });
});
