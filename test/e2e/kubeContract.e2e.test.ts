// The API-server contract (test/support/kubeContract.ts) on the REST client against the real kube-apiserver and
// kube-controller-manager (garbage collection, the deployment controller writing status): what the in-memory
// client of the unit tests claims, the real API server does.
import { afterAll, beforeAll, describe } from '@jest/globals';
import { KubeRest } from '../../src/kube/rest.js';
import { RestKubeClient } from '../../src/kube/restClient.js';
import { kubeconfigAccess } from '../../src/kube/kubeconfig.js';
import { kubeClientContract, WIDGET_CRD } from '../support/kubeContract.js';
import { applyObjects, cluster, kubectl, kubectlOk, waitFor } from './support/cluster.js';

const NS = 'e2e-contract';
let client: RestKubeClient;

beforeAll(async () => {
  await applyObjects([WIDGET_CRD]);
  await kubectlOk(['wait', '--for=condition=Established', 'crd/widgets.contract.asya.sh', '--timeout=30s']);
  await kubectl(['create', 'namespace', NS]);
  client = new RestKubeClient(new KubeRest(await kubeconfigAccess(cluster.kubeconfig), { userAgent: 'asya-contract-e2e' }));
}, 60_000);

afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
  await kubectl(['delete', 'crd', 'widgets.contract.asya.sh', '--wait=false']);
});

describe('RestKubeClient on a real API server keeps the contract', () => {
  kubeClientContract(() => ({ client, namespace: NS, eventually: (what, fn) => waitFor(what, fn, 60_000) }));
});
