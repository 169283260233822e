import { cdk8s, javascript, JsonFile } from 'projen';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-init',
  description: 'Typed, secure-by-default init containers for cdk8s-plus workloads',
  author: 'cdk8s-init maintainers',
  authorAddress: 'maintainers@cdk8s-init.dev',
  repositoryUrl: 'https://github.com/cdk8s-init/cdk8s-init.git',
  keywords: ['cdk8s', 'kubernetes', 'init-containers', 'cdk8s-plus'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  github: false,

  // cdk8s v2 line; projen's defaults (cdk8s 1.x, constructs 3.x) do not resolve with cdk8s-plus-27.
  cdk8sVersion: '2.70.106',
  constructsVersion: '10.8.1',
  jsiiVersion: '~6.0.0',
  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  devDeps: [
    'cdk8s-plus-27@2.9.5',
    // 4.x is the last CommonJS line; 5.x is ESM-only, which jest cannot load.
    'kubernetes-models@^4.5.0',
    'yaml@^2.4.0',
    // The real Liquibase distribution (Java), run against PostgreSQL in the MigrationInit tests.
    'liquibase@4.28.1',
  ],

  // CI gate for synthesized manifests: `npx cdk8s-init-policy dist/*.k8s.yaml`.
  bin: { 'cdk8s-init-policy': 'lib/policy/cli.js' },

  // A changed snapshot must fail the test run, not be rewritten by it.
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: { testTimeout: 30_000 },
  },
});

// projen silences jsii's reserved-word warning; a public name that is a keyword in a
// target language (C#'s `ref`) breaks that language's bindings, so it stays on.
project.compileTask.reset('jsii');
project.watchTask.reset('jsii -w');

project.gitignore.exclude('/examples/dist/');
// The package ships lib/, assets/ (the init scripts) and API.md; not the repo's apps and tooling.
project.npmignore?.exclude('/examples/', '/bench/', '/.ci/');

// examples/ and bench/ are type-checked and linted like the tests.
for (const dir of ['examples', 'bench']) {
  project.eslint?.addLintPattern(dir);
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: { extends: '../test/tsconfig.json', include: ['**/*.ts', '../src/**/*.ts'] },
  });
}

// `npm run examples`: synthesize every app in examples/ to examples/dist/<app>/.
project.addTask('examples', {
  description: 'Synthesize every example app to examples/dist/<app>/*.k8s.yaml',
  exec: 'ts-node --project examples/tsconfig.json examples/synth-all.ts',
});

// `npm run bench`: performance figures as `name: value` lines.
project.addTask('bench', {
  description: 'Run the benchmarks and print `name: value` lines',
  // --expose-gc: the synthesis benchmark collects garbage between runs, so one
  // run's garbage is not charged to the next.
  // In the loopback-only network namespace the script tests use: the wait and SIGTERM figures run
  // the generated scripts through the same container harness.
  exec: 'sh test/loopback-only.sh node --expose-gc -r ts-node/register bench/run.ts',
  env: { TS_NODE_PROJECT: 'bench/tsconfig.json' },
  receiveArgs: true,
});

// `npm test`: provision what the real-execution tests need (Debian packages, the defconfig busybox
// build; or stop at once saying what to install), compile with jsii (a public API that breaks jsii
// rules fails the suite), run jest with loopback as the only network, then lint.
project.testTask.reset();
project.testTask.exec('bash test/provision.sh');
project.testTask.spawn(project.compileTask);
project.testTask.exec('sh test/loopback-only.sh jest --passWithNoTests --ci', { receiveArgs: true });
project.testTask.spawn(project.eslint!.eslintTask);

// `npm run test:e2e`: the real-cluster tier. The examples, synthesized as `npm run examples` writes
// them, applied unchanged to a single-node Kubernetes 1.20 built from Debian's packages, with
// stand-in images and dependencies, inside namespaces the tier creates (test/e2e/run.sh). The
// Kubernetes build and the images are cached outside the repo. Its tests are *.e2e.ts files, which
// `npm test`'s jest does not match.
project.addTask('test:e2e', {
  description: 'Run the examples on a real single-node Kubernetes built from Debian packages',
  exec: 'bash test/e2e/run.sh',
  receiveArgs: true,
});
new JsonFile(project, 'test/e2e/jest.config.json', {
  obj: {
    rootDir: '../..',
    testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'],
    // One cluster: the tests run one after another, each in its own namespaces.
    maxWorkers: 1,
    testTimeout: 300_000,
    transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
  },
});

project.synth();
