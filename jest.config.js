// Jest runs the TypeScript sources directly (SWC strips types); `npm test` type-checks first with tsc.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }] };
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
      testTimeout: 120_000,
    },
  ],
};
