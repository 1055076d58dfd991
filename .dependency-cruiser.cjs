/**
 * Import rules of login-manager (DESIGN.md, issue 11 item 5): no cycles, type-only imports
 * included; lower layers never reach up into the core or the adapters; `node:crypto` lives behind
 * `src/crypto/`. Tests and benchmarks may reach across layers to set things up.
 */
const testOrBench = '\\.(test|bench)\\.ts$'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle (type-only ones too): move the shared piece into a leaf module.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'lower-layers-stay-low',
      severity: 'error',
      comment:
        'cookie/, crypto/, session/ and shared/ sit below the core: they never import core/, adapter/ or adapters/.',
      from: { path: '^src/(cookie|crypto|session|shared)/', pathNot: testOrBench },
      to: { path: '^src/(core|adapter|adapters|stores|testing)/' },
    },
    {
      name: 'shared-is-a-leaf',
      severity: 'error',
      comment: 'src/shared/ holds leaf types and errors: it imports nothing of the project.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'core-does-not-know-adapters',
      severity: 'error',
      comment: 'The core is framework-free: it never imports adapter/ or adapters/.',
      from: { path: '^src/core/', pathNot: testOrBench },
      to: { path: '^src/(adapter|adapters)/' },
    },
    {
      name: 'stores-stay-below-core',
      severity: 'error',
      comment:
        'Stores implement the session layer: they import session/, crypto/ and shared/, never core/.',
      from: { path: '^src/stores/', pathNot: testOrBench },
      to: { path: '^src/(core|adapter|adapters)/' },
    },
    {
      name: 'adapters-only-translate',
      severity: 'error',
      comment:
        'A framework adapter builds on login-manager/adapter alone (src/adapter/): no core, session or store internals.',
      from: { path: '^src/adapters/', pathNot: testOrBench },
      to: { path: '^src/', pathNot: '^src/(adapter|adapters)/' },
    },
    {
      name: 'node-crypto-only-in-crypto',
      severity: 'error',
      comment: 'Hashing and random bytes go through src/crypto/ (one place to audit and to port).',
      from: { path: '^src/', pathNot: ['^src/crypto/', testOrBench] },
      to: { path: '^(node:)?crypto$', dependencyTypes: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
