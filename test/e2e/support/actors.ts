// What e2e files that run actors on the node share: AsyncActor objects as a user writes them, envelopes published
// as a client publishes them, and `kubectl get asyas` read back (status, pods, the wide table).
import type amqp from 'amqplib';
import { getJson, kubectlOk, node, sleep, waitFor } from './cluster.js';

export const EXCHANGE = 'asya';

export const readOnlyRuntime = { readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false };

/** The asya-runtime container of the python image, running `handler` (module.function of test/e2e/node/handlers). */
export const runtime = (handler: string, extra: Record<string, unknown> = {}) => ({
  name: 'asya-runtime',
  image: node.images.python,
  imagePullPolicy: 'IfNotPresent',
  env: [{ name: 'ASYA_HANDLER', value: handler }],
  securityContext: readOnlyRuntime,
  ...extra,
});

export const actor = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'asya.sh/v1alpha1',
  kind: 'AsyncActor',
  metadata: { name, namespace },
  spec: { transport: 'rabbitmq', ...spec },
});

/** Scaled by KEDA from zero on its queue, quickly (short polling and cooldown). */
export const scaled = { enabled: true, minReplicas: 0, maxReplicas: 1, pollingInterval: 2, cooldownPeriod: 15, queueLength: 1 };

/** Upstream's end actor (asya-crew's handlers) for `role`, one replica. */
export const endActor = (namespace: string, role: 'happy' | 'error', transport: string) =>
  actor(namespace, `${role}-end`, {
    transport,
    workload: {
      replicas: 1,
      template: {
        spec: {
          containers: [
            {
              name: 'asya-runtime',
              image: node.images.crew,
              imagePullPolicy: 'IfNotPresent',
              env: [
                { name: 'ASYA_HANDLER', value: `handlers.end_handlers.${role}_end_handler` },
                { name: 'ASYA_HANDLER_MODE', value: 'envelope' },
              ],
            },
          ],
        },
      },
    },
  });

/** a -> b (each appends its name to payload.seen), and boom, which raises. */
export const pipeline = (namespace: string, transport: string, prefix = '') => [
  actor(namespace, `${prefix}a`, { transport, scaling: scaled, workload: { template: { spec: { containers: [runtime('flow.stage_a')] } } } }),
  actor(namespace, `${prefix}b`, {
    transport,
    scaling: scaled,
    workload: {
      // Upstream falls back to python3 for an empty interpreter; its example sets ASYA_ENABLE_VALIDATION itself.
      pythonExecutable: '',
      template: { spec: { containers: [runtime('flow.stage_b', { env: [{ name: 'ASYA_HANDLER', value: 'flow.stage_b' }, { name: 'ASYA_ENABLE_VALIDATION', value: 'true' }] })] } },
    },
  }),
  actor(namespace, `${prefix}boom`, { transport, scaling: scaled, workload: { template: { spec: { containers: [runtime('flow.boom')] } } } }),
];

export type Envelope = { id: string; route: { actors: string[]; current: number }; payload: Record<string, unknown> };

export const envelope = (id: string, actors: string[], payload: Record<string, unknown>): Envelope => ({ id, route: { actors, current: 0 }, payload });

/** What a client does: publish to the exchange with the first actor's name as routing key (confirmed). */
export async function publish(conn: amqp.ChannelModel, ...envs: Envelope[]): Promise<void> {
  const ch = await conn.createConfirmChannel();
  try {
    for (const env of envs) ch.publish(EXCHANGE, env.route.actors[0]!, Buffer.from(JSON.stringify(env)), { persistent: true, contentType: 'application/json' });
    await ch.waitForConfirms();
  } finally {
    await ch.close();
  }
}


export interface Row {
  status?: string;
  running?: number;
  failing?: number;
}

export const row = async (namespace: string, name: string): Promise<Row> => {
  const a = await getJson(['asyncactors', '-n', namespace, name]);
  return { status: a.status?.status, running: a.status?.replicas, failing: a.status?.failingPods };
};

/** Samples STATUS/RUNNING of an actor every 500 ms until stopped: the stages `kubectl get asyas` went through. */
export function watchStatus(namespace: string, name: string): { stop(): Promise<Row[]> } {
  const seen: Row[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await row(namespace, name).catch(() => undefined);
      const last = seen[seen.length - 1];
      if (r && (!last || last.status !== r.status || last.running !== r.running)) seen.push(r);
      await sleep(500);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      // The state the caller just waited for, in case it came after the last sample.
      const r = await row(namespace, name);
      const last = seen[seen.length - 1];
      if (!last || last.status !== r.status || last.running !== r.running) seen.push(r);
      return seen;
    },
  };
}

export const podsOf = async (namespace: string, actorName: string): Promise<any[]> =>
  (await getJson<{ items: any[] }>(['pods', '-n', namespace, '-l', `asya.sh/actor=${actorName}`])).items;

/** Pods of the actor that are Running and Ready, not being deleted. */
export const readyPodsOf = async (namespace: string, actorName: string): Promise<any[]> =>
  (await podsOf(namespace, actorName)).filter(
    (p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
  );

export async function waitStatus(namespace: string, name: string, want: (r: Row) => boolean, what: string, timeoutMs = 120_000): Promise<Row> {
  return waitFor(`${namespace}/${name} ${what}`, async () => {
    const r = await row(namespace, name);
    return want(r) ? r : undefined;
  }, timeoutMs, 500);
}

/**
 * `kubectl get asyas -o wide` as a user reads it: one record per actor, keyed by the column headers (NAME,
 * STATUS, RUNNING, DESIRED, LAST-SCALE, DIRECTION, ...). Cells are cut at the headers' start columns.
 */
export async function asyasWide(namespace: string): Promise<Array<Record<string, string>>> {
  const lines = (await kubectlOk(['get', 'asyas', '-n', namespace, '-o', 'wide'])).split('\n').filter((l) => l.trim());
  const header = lines[0] ?? '';
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index ?? 0 }));
  return lines.slice(1).map((l) =>
    Object.fromEntries(starts.map((c, i) => [c.name, l.slice(c.at, i + 1 < starts.length ? starts[i + 1]!.at : undefined).trim()])),
  );
}
