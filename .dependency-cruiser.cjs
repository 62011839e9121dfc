/**
 * Module boundaries, checked by `npm run lint` (architecture.md, rules of the house 5 and 6).
 * A "module" is a folder directly under src/.
 */

/**
 * The module layering, lowest first: a module may import its own layer and the layers below, never one above.
 * The composition root (`src/app.*.ts`: the module, the setup, the entity registry, the data source, the
 * migration runner) knows every module; only the entry points sit above it.
 */
const LAYERS = [
  ['common', 'config'],
  ['database'],
  [
    'audit',
    'organizations',
    'events',
    'api-keys',
    'health',
    'rate-limits',
    'microsoft',
    'auth-flows',
    'domain-claims',
  ],
  ['users'],
  ['sessions', 'activation'],
  ['integrations'],
  ['deprovisioning', 'webhooks', 'tenant-assignment', 'pages', 'role-mapping'],
  ['scim'],
  ['provisioning'],
  ['auth'],
  ['app.'],
  ['openapi', 'cli'],
  ['main.'],
];
// `users` matches src/users/, `app.` matches src/app.module.ts, src/app.entities.ts, ...
const inLayers = (layers) =>
  `^src/(${layers
    .flat()
    .map((name) => (name.endsWith('.') ? `${name.replace('.', '[.]')}[^/]+$` : `${name}/`))
    .join('|')})`;
const layering = LAYERS.slice(0, -1).map((layer, index) => ({
  name: 'no-import-up-the-layers',
  severity: 'error',
  comment:
    'A low module imports no higher one (LAYERS): a helper a low module needs moves down, a registry that ' +
    'names every module moves up to the composition root.',
  from: { path: inLayers([layer]) },
  to: { path: inLayers(LAYERS.slice(index + 1)) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layering,
    {
      name: 'every-module-has-a-layer',
      severity: 'error',
      comment:
        'A new folder under src/ (or a new file at its root) is placed in LAYERS before it imports anything.',
      from: { path: '^src/', pathNot: inLayers(LAYERS) },
      to: {},
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means a concept sits in the wrong module.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-foreign-repository-or-entity',
      severity: 'error',
      comment:
        "Modules talk through each other's public services or events, never through another module's repository or entities. (database/ holds no module's data: its organization-scoped repository base is for every module; the entity registry is the composition root's, src/app.entities.ts.)",
      // Entities may sit in a sub-folder too (src/scim/users/entities/).
      from: {
        path: '^src/([^/]+)/',
        pathNot: ['^src/cli/', '^src/[^/]+/entities/', '^src/[^/]+/[^/]+/entities/'],
      },
      to: {
        path: '^src/[^/]+/(entities/|[^/]+[.]repository[.]ts$)',
        pathNot: ['^src/$1/', '^src/database/'],
      },
    },
    {
      name: 'no-foreign-repository-or-entity',
      severity: 'error',
      comment:
        "The one schema: an entity may name another module's entity in a relation (a foreign key), nothing more.",
      from: { path: ['^src/[^/]+/entities/', '^src/scim/[^/]+/entities/'] },
      to: { path: '^src/[^/]+/[^/]+[.]repository[.]ts$' },
    },
    {
      name: 'common-imports-no-feature',
      severity: 'error',
      comment: 'common/ is framework glue: it may use config/, nothing of the feature modules.',
      from: { path: '^src/common/' },
      to: { path: '^src/', pathNot: '^src/(common|config)/' },
    },
    {
      name: 'src-imports-no-tests-or-emulator',
      severity: 'error',
      comment: 'The service never depends on its tests, benchmarks or the Entra emulator.',
      from: { path: '^src/' },
      to: { path: ['^(test|packages)/', '(^|/)node_modules/@entra-integration/', '^@entra-integration/'] },
    },
    {
      name: 'scim-protocol-is-pure',
      severity: 'error',
      comment:
        'src/scim/protocol/ is the pure SCIM library: no other code of the service, no Nest, no database driver.',
      from: { path: '^src/scim/protocol/' },
      to: {
        path: ['^src/', '(^|/)node_modules/(@nestjs|typeorm|pg|express)/'],
        pathNot: '^src/scim/protocol/',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '[.]spec[.]ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
