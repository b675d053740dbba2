// The API-server contract (test/support/kubeContract.ts) on the in-memory client the unit tests and benchmarks
// use; test/e2e/kubeContract.e2e.test.ts runs the same contract on a real API server.
import { describe } from '@jest/globals';
import { kubeClientContract } from '../support/kubeContract.js';
import { MemoryKubeClient } from '../support/memoryKube.js';

describe('MemoryKubeClient keeps the API server contract', () => {
  const client = new MemoryKubeClient();
  kubeClientContract(() => ({
    client,
    namespace: 'contract',
    eventually: async (what, fn) => {
      const v = await fn();
      if (v === undefined || v === false) throw new Error(`not at once in memory: ${what}`);
      return v;
    },
  }));
});
