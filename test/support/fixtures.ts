// Actors and configurations for reconciler tests.
import type { AsyncActor } from '../../src/api/schema.js';
import { parseConfig } from '../../src/config/load.js';
import type { OperatorConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { KubeObject } from '../../src/kube/client.js';
import { KINDS } from '../../src/kube/client.js';
import type { MemoryKubeClient } from './memoryKube.js';

export const logger = silentLogger();

export function makeConfig(over: { rabbitPort?: number; sqsEndpoint?: string; rabbit?: Record<string, unknown>; sqs?: Record<string, unknown>; reconciler?: Record<string, unknown> } = {}): OperatorConfig {
  return parseConfig({
    transports: {
      rabbitmq: { enabled: true, type: 'rabbitmq', config: { host: '127.0.0.1', port: over.rabbitPort ?? 5672, passwordSecretRef: { name: 'rabbitmq-secret', key: 'password' }, ...over.rabbit } },
      sqs: { enabled: true, type: 'sqs', config: { region: 'us-east-1', ...(over.sqsEndpoint ? { endpoint: over.sqsEndpoint } : {}), ...over.sqs } },
    },
    reconciler: { ...over.reconciler },
  });
}

export function makeActor(name: string, spec: Record<string, unknown> = {}, namespace = 'default'): AsyncActor & KubeObject {
  const { workload, ...rest } = spec as { workload?: Record<string, unknown> };
  return {
    apiVersion: 'asya.sh/v1alpha1',
    kind: 'AsyncActor',
    metadata: { name, namespace },
    spec: {
      transport: 'rabbitmq',
      ...rest,
      workload: {
        kind: 'Deployment',
        template: { spec: { containers: [{ name: 'asya-runtime', image: 'example/handler:1' }] } },
        ...workload,
      },
    },
  } as AsyncActor & KubeObject;
}

export async function createActor(client: MemoryKubeClient, actor: AsyncActor & KubeObject): Promise<AsyncActor & KubeObject> {
  return client.create(KINDS.actor, actor);
}
