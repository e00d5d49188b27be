// Jest 29 (30 pulls unrs-resolver, whose platform binaries npm 11 leaves out of the lock file,
// so `npm ci` fails on a clean machine). Jest runs in native ESM mode on purpose: @kubernetes/client-node and execa are ESM-only,
// and so is this package ("type": "module"). `npm run test:unit` sets
// --experimental-vm-modules; ts-jest only transpiles (isolatedModules) because `tsc --noEmit`
// type-checks the whole tree as its own step of `npm test`.
/** @type {import('jest').Config} */
export default {
  // One worker per core (jest's default is cores - 1: a single worker on the 2-core CI machine).
  maxWorkers: '100%',
  // Jest's node environment plus one CloudFormation validation engine per worker, shared by
  // every test file of that worker instead of rebuilt per file (test/jest/lab-environment.cjs).
  testEnvironment: '<rootDir>/test/jest/lab-environment.cjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@aws/cloudformation-validate$': '<rootDir>/test/jest/shared-cfn-validate.cjs',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 120000,
};
