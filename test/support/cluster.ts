// Plays the controllers the reconciler relies on but that do not run here: the Deployment/StatefulSet
// controller with the kubelet (status and Ready pods) and KEDA (the HPA). Writes go through
// MemoryKubeClient.simulate, so they are not counted as the reconciler's.
import { KINDS, type KubeObject } from '../../src/kube/client.js';
import type { MemoryKubeClient } from './memoryKube.js';
import { ACTOR_LABEL, INJECTION_STATUS_ANNOTATION, kedaHpaNameFor } from '../../src/names.js';

export function readyPod(actor: string, i: number, namespace = 'default'): KubeObject {
  return {
    // Admitted through the pod webhook, as every actor pod is when the webhook is registered.
    metadata: { name: `${actor}-${i}`, namespace, labels: { [ACTOR_LABEL]: actor }, annotations: { [INJECTION_STATUS_ANNOTATION]: '{"injected":true}' } },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'asya-runtime', ready: true, state: { running: {} } }] },
  };
}

/** Brings the workload of an actor to its spec: status filled in, `replicas` Ready pods. */
export function settleWorkload(client: MemoryKubeClient, namespace: string, name: string): void {
  for (const kind of [KINDS.deployment, KINDS.statefulSet]) {
    const w = client.peek<KubeObject>(kind, namespace, name);
    if (!w) continue;
    const replicas = (w.spec as { replicas?: number }).replicas ?? 1;
    const owner = { apiVersion: w.apiVersion, kind: w.kind, name, uid: w.metadata.uid, controller: true };
    const pods = client.all<KubeObject>(KINDS.pod).filter((p) => p.metadata.namespace === namespace && p.metadata.labels?.[ACTOR_LABEL] === name);
    for (const p of pods.slice(replicas)) client.simulateDelete(KINDS.pod, namespace, p.metadata.name ?? '');
    for (let i = pods.length; i < replicas; i++) client.simulate(KINDS.pod, { ...readyPod(name, i, namespace), metadata: { ...readyPod(name, i, namespace).metadata, ownerReferences: [owner] } });
    const status = { observedGeneration: w.metadata.generation, replicas, readyReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas };
    if (JSON.stringify(w.status) !== JSON.stringify(status)) client.simulate(kind, { ...w, status });
  }
}

/** What KEDA does with a ScaledObject: an HPA keda-hpa-<name> and the workload scaled to `replicas`. */
export function kedaScale(client: MemoryKubeClient, namespace: string, name: string, replicas: number): void {
  const so = client.peek<KubeObject>(KINDS.scaledObject, namespace, name);
  if (!so) throw new Error(`no ScaledObject ${namespace}/${name}`);
  client.simulate(KINDS.hpa, {
    metadata: { name: kedaHpaNameFor(name), namespace, ownerReferences: [{ apiVersion: so.apiVersion, kind: so.kind, name, uid: so.metadata.uid, controller: true }] },
    spec: { minReplicas: 1, maxReplicas: 10 },
    status: { currentReplicas: replicas, desiredReplicas: replicas },
  });
  for (const kind of [KINDS.deployment, KINDS.statefulSet]) {
    const w = client.peek<KubeObject>(kind, namespace, name);
    if (w) client.simulate(kind, { ...w, spec: { ...(w.spec as object), replicas } });
  }
  client.simulate(KINDS.scaledObject, { ...so, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'ScaledObjectReady' }] } });
}
