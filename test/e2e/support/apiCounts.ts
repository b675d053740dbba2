// Counting the API server's requests without changing its flags, for tests and benchmarks alike:
// - by verb and resource, from apiserver_request_total (no user label: every client's requests together);
// - by client, with API Priority and Fairness: a FlowSchema that matches one ServiceAccount (and, if wanted,
//   some verbs, resources or namespaces) at the priority level ServiceAccounts get anyway ("workload-low", from
//   the built-in FlowSchema "service-accounts"), so nothing about how its requests are served changes, and the
//   API server counts what it matched in apiserver_flowcontrol_dispatched_requests_total{flow_schema=...}.
//   Watches count when they are established. A FlowSchema matches only requests made after it exists.

export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY'] as const;

export interface FlowRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  /** Namespaces of namespaced requests (default every one); cluster-scoped requests match only with the default. */
  namespaces?: string[];
}

/** A FlowSchema matching ServiceAccount `sa` and `rule`; the lowest matchingPrecedence of those that match wins. */
export function flowSchema(name: string, sa: { namespace: string; name: string }, rule: FlowRule, precedence: number): object {
  const everywhere = !rule.namespaces;
  return {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name },
    spec: {
      priorityLevelConfiguration: { name: 'workload-low' },
      matchingPrecedence: precedence,
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects: [{ kind: 'ServiceAccount', serviceAccount: sa }],
          resourceRules: [{ verbs: rule.verbs, apiGroups: rule.apiGroups ?? ['*'], resources: rule.resources ?? ['*'], clusterScope: everywhere, namespaces: rule.namespaces ?? ['*'] }],
          ...(everywhere ? { nonResourceRules: [{ verbs: rule.verbs, nonResourceURLs: ['*'] }] } : {}),
        },
      ],
    },
  };
}

/** Requests dispatched per FlowSchema, from the API server's /metrics text. */
export function dispatchedByFlowSchema(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_flowcontrol_dispatched_requests_total{')) continue;
    const fs = /flow_schema="([^"]*)"/.exec(line)?.[1];
    if (fs) out.set(fs, (out.get(fs) ?? 0) + sampleValue(line));
  }
  return out;
}

/** apiserver_request_total for writes, summed by "VERB group/resource[/subresource]", for the given API groups. */
export function writesByResource(metricsText: string, groups: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!groups.includes(labels.group ?? '')) continue;
    if (!(WRITE_METHODS as readonly string[]).includes(labels.verb ?? '')) continue;
    const key = `${labels.verb} ${labels.group ? `${labels.group}/` : ''}${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + sampleValue(line));
  }
  return out;
}

/** after - before, only the keys that grew. */
export function deltas(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of after) {
    const diff = v - (before.get(k) ?? 0);
    if (diff > 0) d[k] = diff;
  }
  return d;
}

/** GET /metrics of an API server with a bearer token (the suite's admin). */
export async function apiserverMetrics(server: string, token: string, ca: string | Buffer): Promise<string> {
  const https = await import('node:https');
  return new Promise<string>((resolve, reject) => {
    https
      .get(`${server}/metrics`, { ca, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(b) : reject(new Error(`GET /metrics: ${res.statusCode} ${b.slice(0, 200)}`))));
      })
      .on('error', reject);
  });
}

const sampleValue = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
