// Finding the API server and credentials as kubectl does (src/kube/kubeconfig.ts).
import { afterAll, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { inClusterAccess, kubeconfigAccess, loadClusterAccess } from '../../src/kube/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'asya-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(file: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }, { name: 'other', context: { cluster: 'k', user: 'nobody' } }],
      clusters: [{ name: 'k', cluster: { server: 'https://10.1.2.3:6443', 'certificate-authority-data': Buffer.from('CA').toString('base64'), ...cluster } }],
      users: [{ name: 'u', user }],
    }),
  );
  return path;
}

describe('kubeconfig files', () => {
  test('a token, the cluster CA, the current context', async () => {
    const a = await kubeconfigAccess(kubeconfig('token.yaml', { token: 't0k3n' }));
    expect(a.server.href).toBe('https://10.1.2.3:6443/');
    expect(a.tls.ca?.toString()).toBe('CA');
    expect(await a.authorization()).toBe('Bearer t0k3n');
  });
  test('a token file, relative to the kubeconfig, and client certificate files', async () => {
    writeFileSync(join(dir, 'tok'), 'from-file\n');
    writeFileSync(join(dir, 'c.crt'), 'CERT');
    writeFileSync(join(dir, 'c.key'), 'KEY');
    const a = await kubeconfigAccess(kubeconfig('files.yaml', { tokenFile: 'tok', 'client-certificate': 'c.crt', 'client-key': join(dir, 'c.key') }, { 'insecure-skip-tls-verify': true }));
    expect(await a.authorization()).toBe('Bearer from-file');
    expect([a.tls.cert?.toString(), a.tls.key?.toString(), a.tls.rejectUnauthorized]).toEqual(['CERT', 'KEY', false]);
  });
  test('an exec credential plugin (as EKS and GKE configure): its token, cached', async () => {
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(plugin, `#!/bin/sh\necho x >> ${join(dir, 'plugin.calls')}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-'"$PLUGIN_ARG"'"}}'\n`);
    chmodSync(plugin, 0o755);
    const a = await kubeconfigAccess(kubeconfig('exec.yaml', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, env: [{ name: 'PLUGIN_ARG', value: 'abc' }] } }));
    expect(await a.authorization()).toBe('Bearer exec-abc');
    expect(await a.authorization()).toBe('Bearer exec-abc');
    // Run once (for the TLS options at load) and reused: no expirationTimestamp means it does not expire.
    expect(readFileSync(join(dir, 'plugin.calls'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
  test('a context that does not exist is named', async () => {
    await expect(kubeconfigAccess(kubeconfig('ctx.yaml', { token: 'x' }), 'nope')).rejects.toThrow('no context nope');
  });
  test('$KUBECONFIG first, then in-cluster', async () => {
    const a = await loadClusterAccess(undefined, { KUBECONFIG: `/nonexistent:${kubeconfig('env.yaml', { token: 'e' })}`, HOME: dir });
    expect(await a.authorization()).toBe('Bearer e');
  });
});

test('in a pod: the ServiceAccount token (read again as it rotates) and CA, the kubernetes Service address', async () => {
  const sa = mkdtempSync(join(dir, 'sa-'));
  writeFileSync(join(sa, 'token'), 'sa-token');
  writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
  const a = inClusterAccess(sa, { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' });
  expect(a.server.href).toBe('https://10.0.0.1/');
  expect(a.tls.ca?.toString()).toBe('SA-CA');
  expect(await a.authorization()).toBe('Bearer sa-token');
  expect(() => inClusterAccess(sa, {})).toThrow('KUBERNETES_SERVICE_HOST');
});
