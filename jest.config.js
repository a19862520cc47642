/** @type {import('jest').Config} */
const swcTs = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
}];
// Nest 12 (and cookie@2 under light-my-request) are ESM-only; Jest on Node < 24.9 can't require(esm)
const swcJs = ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': swcTs, '^.+\\.m?js$': swcJs },
  transformIgnorePatterns: ['/node_modules/(?!.*/node_modules/)(?!(@nestjs|cookie|content-disposition|mercurius|quick-lru)/)'],
  setupFiles: ['<rootDir>/test/support/setup.ts'],
  // One redis-server (or REDIS_URL) and a 3-master Cluster for test/redis and test/contract
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  // One test file at a time: the machine has 2 cores, and the real-time tests (shaping precision,
  // chaos return times, fleets of processes) measure what this process and Redis do, not what a
  // second suite running beside them takes away.
  maxWorkers: 1,
  // A worker that has grown past this is replaced between test files: the real-time and chaos
  // tests then run on a small heap, not on the garbage of every file before them.
  workerIdleMemoryLimit: '256MB',
};
