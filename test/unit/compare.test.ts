// What counts as drift between what the reconciler wants and what the API server holds (compare.ts).
import { describe, expect, test } from '@jest/globals';
import { firstDrift } from '../../src/reconciler/compare.js';

const want = {
  spec: {
    selector: { matchLabels: { 'asya.sh/actor': 'echo' } },
    template: {
      metadata: { labels: { 'asya.sh/actor': 'echo' } },
      spec: { containers: [{ name: 'asya-runtime', image: 'h:1', resources: { limits: { cpu: '0.5', memory: '1024Mi' } } }], volumes: [{ name: 'cache', emptyDir: {} }] },
    },
  },
};
const live = () => ({
  metadata: { resourceVersion: '9', generation: 2 },
  spec: {
    replicas: 3,
    progressDeadlineSeconds: 600,
    selector: { matchLabels: { 'asya.sh/actor': 'echo' } },
    template: {
      metadata: { labels: { 'asya.sh/actor': 'echo' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } },
      spec: {
        restartPolicy: 'Always',
        dnsPolicy: 'ClusterFirst',
        containers: [{ name: 'asya-runtime', image: 'h:1', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', resources: { limits: { cpu: '500m', memory: '1Gi' } } }],
        volumes: [{ name: 'cache', emptyDir: {} }],
      },
    },
  },
  status: { replicas: 3 },
});

describe('firstDrift', () => {
  test("none for what the API server adds or rewrites: defaults, canonical quantities, someone else's replicas and annotations", () => {
    expect(firstDrift(want, live())).toBeUndefined();
  });
  test.each<[string, (o: ReturnType<typeof live>) => void, string]>([
    ['an image', (o) => (o.spec.template.spec.containers[0]!.image = 'h:2'), '/spec/template/spec/containers/0/image'],
    ['a limit', (o) => (o.spec.template.spec.containers[0]!.resources.limits.memory = '2Gi'), '/spec/template/spec/containers/0/resources/limits/memory'],
    ['an env variable added where we set none', (o) => Object.assign(o.spec.template.spec.containers[0]!, { env: [{ name: 'X', value: '1' }] }), '/spec/template/spec/containers/0/env'],
    ['a container added', (o) => o.spec.template.spec.containers.push({ name: 'x', image: 'x' } as never), '/spec/template/spec/containers'],
    ['a node selector added', (o) => Object.assign(o.spec.template.spec, { nodeSelector: { a: 'b' } }), '/spec/template/spec/nodeSelector'],
    ['a label of ours removed', (o) => (o.spec.template.metadata.labels = {} as never), '/spec/template/metadata/labels/asya.sh~1actor'.replace('~1', '/')],
  ])('%s', (_what, edit, path) => {
    const o = live();
    edit(o);
    expect(firstDrift(want, o)).toBe(path);
  });
});
