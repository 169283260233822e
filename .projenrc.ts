import { cdk8s, javascript, JsonFile } from 'projen';
import { DESIGN_LINE, lineDir, packageName, PLUS_LINES, plusPackage } from './projenrc/lines';

// One source tree, one package per cdk8s-plus line (projenrc/lines.ts). src/ is written against
// cdk8s-plus-27, the design line, and this project is that line's package, cdk8s-init-plus-27.
// The packages of lines 32, 33 and 34 are built from the same src/ by projenrc/build-line.ts into
// build/plus-<line>/: every 'cdk8s-plus-27' import names the line's cdk8s-plus, and the line module
// (src/private/line/) is the one for lines 28 and later. Each is compiled by jsii against its own
// cdk8s-plus, so an app gets its line's types and one copy of cdk8s-plus. Every cdk8s-plus line is
// a devDependency here; `npm test` runs the suite against each line's built package.
const design = PLUS_LINES.find(l => l.line === DESIGN_LINE)!;
const laterLines = PLUS_LINES.filter(l => l.line !== DESIGN_LINE);

const project = new cdk8s.ConstructLibraryCdk8s({
  name: packageName(DESIGN_LINE),
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
  peerDeps: [`${plusPackage(DESIGN_LINE)}@^${design.plusVersion}`],
  devDeps: [
    ...PLUS_LINES.map(l => `${plusPackage(l.line)}@${l.plusVersion}`),
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

// `npx projen build:lines`: the packages of the later lines, in build/plus-<line>/ (`-- 33` builds one).
const buildLines = project.addTask('build:lines', {
  description: 'Build the cdk8s-init package of every later cdk8s-plus line into build/plus-<line>/',
  exec: 'ts-node --project projenrc/tsconfig.json projenrc/build-line.ts',
  receiveArgs: true,
});

project.gitignore.exclude('/examples/dist/', '/build/');
// The design line's compile leaves out the later lines' line module: it uses APIs cdk8s-plus-27 lacks.
project.tsconfig?.addExclude('src/private/line/plus-28.ts');
// Linted outside the tsconfig project that excludes it (the line builds type-check it with jsii).
project.tryFindObjectFile('.eslintrc.json')?.addOverride('parserOptions.projectService.allowDefaultProject', ['.projenrc.ts', 'src/private/line/plus-28.ts']);
// The package ships lib/, assets/ (the init scripts) and API.md; not the repo's apps and tooling.
project.npmignore?.exclude('/examples/', '/bench/', '/.ci/');

// examples/ and bench/ are type-checked and linted like the tests.
for (const dir of ['examples', 'bench']) {
  project.eslint?.addLintPattern(dir);
  new JsonFile(project, `${dir}/tsconfig.json`, {
    // The later lines' line module type-checks only in their own builds.
    obj: { extends: '../test/tsconfig.json', include: ['**/*.ts', '../src/**/*.ts'], exclude: ['node_modules', '../src/private/line/plus-28.ts'] },
  });
}

// `npm run examples`: synthesize every app in examples/ to examples/dist/<app>/.
const examples = project.addTask('examples', {
  description: 'Synthesize every example app to examples/dist/<app>/*.k8s.yaml, and per later line to examples/dist/plus-<line>/<app>/',
  exec: 'ts-node --project examples/tsconfig.json examples/synth-all.ts',
});
examples.spawn(buildLines);
for (const { line } of laterLines) examples.exec(`ts-node --project examples/tsconfig.json examples/synth-all.ts --line ${line}`);

// `npm run bench`: performance figures as `name: value` lines.
const bench = project.addTask('bench', {
  description: 'Run the benchmarks and print `name: value` lines',
  env: { TS_NODE_PROJECT: 'bench/tsconfig.json' },
});
// The synthesis figures are per cdk8s-plus line, measured on each line's built package.
bench.spawn(buildLines);
// --expose-gc: the synthesis benchmark collects garbage between runs, so one
// run's garbage is not charged to the next.
// In the loopback-only network namespace the script tests use: the wait and SIGTERM figures run
// the generated scripts through the same container harness.
bench.exec('sh test/loopback-only.sh node --expose-gc -r ts-node/register bench/run.ts', { receiveArgs: true });

// `npm test`: provision what the real-execution tests need (Debian packages, the defconfig busybox
// build; or stop at once saying what to install), compile with jsii (a public API that breaks jsii
// rules fails the suite), run jest with loopback as the only network, then lint.
project.testTask.reset();
project.testTask.exec('bash test/provision.sh');
project.testTask.spawn(project.compileTask);
project.testTask.exec('sh test/loopback-only.sh jest --passWithNoTests --ci', { receiveArgs: true });
// Then the suite against each later line's package, as its users install it. The tests that run the
// generated scripts in containers run in the design line's pass only: a test of each later line
// (test/examples.test.ts) proves its init containers are the design line's, byte for byte.
for (const { line } of laterLines) {
  // Builds the line's package, runs the suite against it, prints how long the pass took.
  project.testTask.exec(`bash test/lines/run.sh ${line}`, { receiveArgs: true });
  new JsonFile(project, `test/lines/plus-${line}.jest.json`, {
    obj: {
      rootDir: '../..',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/build/'],
      testTimeout: 30_000,
      clearMocks: true,
      // The tests' cdk8s-plus-27 and ../src are the line's cdk8s-plus and the line's built package.
      moduleNameMapper: {
        [`^${plusPackage(DESIGN_LINE)}$`]: plusPackage(line),
        '^(?:\\.\\./)+src$': `<rootDir>/${lineDir(line)}/lib/index.js`,
        '^(?:\\.\\./)+src/(.*)$': `<rootDir>/${lineDir(line)}/lib/$1`,
      },
      reporters: ['default', ['jest-junit', { outputDirectory: 'test-reports', outputName: `junit-plus-${line}.xml` }]],
      // Type-checked in the design line's pass; here they only run.
      transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json', isolatedModules: true }] },
    },
  });
}
// A new user's app per line, with real installs from the npm registry (so outside the loopback-only
// namespace): the README's quickstart compiles against the line's package and synthesizes.
project.testTask.exec('jest --passWithNoTests --ci --config test/lines/quickstart.jest.json', { receiveArgs: true });
new JsonFile(project, 'test/lines/quickstart.jest.json', {
  obj: {
    rootDir: '../..',
    testMatch: ['<rootDir>/test/lines/quickstart.install.ts'],
    testTimeout: 600_000,
    transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
  },
});
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
