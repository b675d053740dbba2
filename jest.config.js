// Jest runs the TypeScript sources as ES modules through ts-jest, transpiling each file on its own
// (isolatedModules in tsconfig.json: fast); `npm test` type-checks the whole project with tsc first.
const transform = { '^.+\\.ts$': ['ts-jest', { useESM: true }] };
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'],
      // One real control plane for all e2e files (test/e2e/support/controlPlane.ts).
      globalSetup: '<rootDir>/test/e2e/support/globalSetup.mjs',
      globalTeardown: '<rootDir>/test/e2e/support/globalTeardown.mjs',
    },
  ],
};
