// Offline injection (`asya-webhook inject`, like `istioctl kube-inject`): the same injectPod applied to
// Pods and to the pod templates of workloads read from files. Pure.
import type { ActorStore } from '../api/actorIndex.js';
import type { OperatorConfig } from '../config/schema.js';
import { injectPod, podLabelActor, type InjectionResult, type Pod } from './inject.js';

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'Job']);

export interface OfflineResult {
  object: unknown;
  outcome: InjectionResult['outcome'] | 'ignored';
  message?: string;
}

export function injectObject(obj: unknown, actors: ActorStore, config: OperatorConfig): OfflineResult {
  if (!obj || typeof obj !== 'object') return { object: obj, outcome: 'ignored' };
  const o = obj as { kind?: unknown; metadata?: { namespace?: string }; spec?: { template?: Pod; jobTemplate?: { spec?: { template?: Pod } } } };
  const namespace = o.metadata?.namespace ?? 'default';
  let pod: Pod | undefined;
  let write: (p: Pod) => unknown;
  if (o.kind === 'Pod') {
    pod = o as Pod;
    write = (p) => p;
  } else if (typeof o.kind === 'string' && TEMPLATE_KINDS.has(o.kind) && o.spec?.template) {
    pod = o.spec.template;
    write = (p) => ({ ...o, spec: { ...o.spec, template: p } });
  } else if (o.kind === 'CronJob' && o.spec?.jobTemplate?.spec?.template) {
    pod = o.spec.jobTemplate.spec.template;
    write = (p) => ({ ...o, spec: { ...o.spec, jobTemplate: { ...o.spec!.jobTemplate, spec: { ...o.spec!.jobTemplate!.spec, template: p } } } });
  } else {
    return { object: obj, outcome: 'ignored' };
  }
  const actorName = podLabelActor(pod);
  const result = injectPod({ pod, namespace, actor: actorName ? actors.get(namespace, actorName) : undefined, config });
  if (result.outcome !== 'injected') return { object: obj, outcome: result.outcome, message: result.message };
  return { object: write(result.pod), outcome: 'injected' };
}
