// Hostile input against the running server (fast-check): it always answers, never crashes, and never
// allows an actor that carries a known violation.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { validateActor } from '../../src/api/validate.js';
import { injectPod } from '../../src/injection/inject.js';
import { actorPod, echoActor, review, startHarness, type Harness } from '../support/webhookHarness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ actors: [echoActor()] });
});
afterAll(async () => {
  await h.stop();
});

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const ENDPOINTS = ['/validate/asyncactors', '/mutate/asyncactors', '/mutate/pods'];

/** Each mutation is known to make a valid actor invalid, with the path its error must name. */
const VIOLATIONS: Array<{ path: string; apply: (a: any) => void }> = [
  { path: 'spec.scaling.minReplicas', apply: (a) => (a.spec.scaling = { ...a.spec.scaling, minReplicas: 9, maxReplicas: 3 }) },
  { path: 'spec.transport', apply: (a) => (a.spec.transport = 'nope') },
  { path: 'spec.workload.template.spec.containers[0].command', apply: (a) => (a.spec.workload.template.spec.containers[0].command = ['sh']) },
  { path: 'spec.workload.template.spec.containers[1].name', apply: (a) => a.spec.workload.template.spec.containers.push({ name: 'asya-sidecar', image: 'x' }) },
  { path: 'spec.workload.kind', apply: (a) => (a.spec.workload.kind = 'CronJob') },
  { path: 'spec.scaling.queueLength', apply: (a) => (a.spec.scaling = { ...a.spec.scaling, queueLength: 0 }) },
  { path: 'spec.scaling.advanced.target', apply: (a) => (a.spec.scaling = { ...a.spec.scaling, advanced: { formula: 'queueLength' } }) },
  { path: 'spec.workload.volumeClaimTemplates', apply: (a) => (a.spec.workload.volumeClaimTemplates = [{}]) },
  { path: 'spec.timeout.gracefulShutdown', apply: (a) => (a.spec.timeout = { gracefulShutdown: -1 }) },
  { path: 'spec.workload.template.spec.volumes[0].name', apply: (a) => (a.spec.workload.template.spec.volumes = [{ name: 'socket-dir', emptyDir: {} }]) },
];

describe('hostile AdmissionReviews', () => {
  test('random JSON bodies: always an answer (200 or 4xx), the server stays up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.jsonValue({ maxDepth: 4 }), async (path, body) => {
        const r = await h.post(path, body);
        expect([200, 400, 413]).toContain(r.status);
        if (r.status === 200) expect(r.body.response.allowed === false || (r.body.response.allowed === true && path !== '/validate/asyncactors')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  test('random objects inside a well-formed review: never a crash, never an allowed invalid actor', async () => {
    const anything = fc.anything({ maxDepth: 4, withNullPrototype: false, withBigInt: false, withDate: false, withMap: false, withSet: false, withTypedArray: false, withSparseArray: false, withBoxedValues: false });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), anything, fc.constantFrom('CREATE', 'UPDATE'), async (path, object, operation) => {
        const kind = path === '/mutate/pods' ? 'Pod' : 'AsyncActor';
        const body = review({ kind, ...(typeof object === 'object' && object !== null ? object : { value: object }) }, { operation, kind: { group: '', version: 'v1', kind } });
        const r = await h.post(path, body);
        expect(r.status).toBe(200);
        expect(r.body.response.uid).toBe((body.request as { uid: string }).uid);
        if (path === '/validate/asyncactors' && r.body.response.allowed) {
          // Only possible for an object the pure validator also accepts.
          expect(validateActor((body.request as { object: any }).object, { config: h.config }).errors).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('actors with any non-empty set of known violations are refused, each violation named', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(VIOLATIONS, { minLength: 1 }), fc.boolean(), async (violations, update) => {
        const a: any = echoActor('team-a', 'echo');
        a.spec.workload.template.spec.containers[0].env = [{ name: 'X', value: 'y' }];
        for (const v of violations) v.apply(a);
        const r = await h.post('/validate/asyncactors', review(a, update ? { operation: 'UPDATE', oldObject: echoActor() } : {}));
        expect(r.body.response.allowed).toBe(false);
        for (const v of violations) expect(r.body.response.status.message).toContain(`${v.path}:`);
      }),
      { numRuns: RUNS },
    );
  });

  test('injection never throws on random pods and its patch always applies', () => {
    const actor = h.actors.get('team-a', 'echo');
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), fc.anything({ maxDepth: 3 }), (containersExtra, specExtra) => {
        const pod: any = actorPod();
        if (Array.isArray(containersExtra)) pod.spec.containers.push(...containersExtra);
        if (specExtra && typeof specExtra === 'object' && !Array.isArray(specExtra)) Object.assign(pod.spec, specExtra);
        const r = injectPod({ pod, namespace: 'team-a', actor, config: h.config });
        expect(['injected', 'skipped', 'denied']).toContain(r.outcome);
      }),
      { numRuns: RUNS * 4 },
    );
  });
});
