// Jest runs the TypeScript sources as native ES modules (node --experimental-vm-modules,
// see the "test" script). ts-jest only transpiles; type errors are caught by `npm run typecheck`.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  maxWorkers: 2,
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  testTimeout: 30000,
};
