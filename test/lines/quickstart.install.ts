/**
 * The README's quickstart, as a new user runs it, on every cdk8s-plus line:
 * an app laid out as `cdk8s init typescript-app` lays it out (the template of
 * cdk8s-cli 2.207.60, copied into test/lines/typescript-app/, on the line's
 * cdk8s-plus), the line's cdk8s-init package packed as it would be published,
 * everything installed for real from the npm registry, then the quickstart
 * compiled with the template's own strict tsconfig and synthesized as
 * `cdk8s synth` runs it (cdk8s.yaml: `npx ts-node main.ts`).
 *
 * Not installed: cdk8s-cli (`cdk8s import` needs the internet) and the
 * template's jest packages, which the quickstart does not use.
 *
 * Runs outside the loopback-only namespace (it needs the registry):
 * test/lines/quickstart.jest.json, from `npm test`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { DESIGN_LINE, lineDir, packageName, PLUS_LINES } from '../../projenrc/lines';

const ROOT = path.join(__dirname, '..', '..');
const TEMPLATE = path.join(__dirname, 'typescript-app');
const ROOT_PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** The README's quickstart: the TypeScript block after the quickstart marker. */
function quickstart(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const match = /<!-- quickstart:[^\n]*-->\n```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no quickstart block after a "<!-- quickstart: … -->" marker');
  return match[1];
}

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' } });
  } catch (e: any) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** The app `cdk8s init typescript-app` would create on `line`, in a new temp dir. */
function newApp(line: number, plusVersion: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `quickstart-plus-${line}-`));
  const fill = (text: string) => text
    .replace(/\{\{ \$base \}\}/g, 'my-app')
    .replace('{{ cdk8s_core_version }}', ROOT_PACKAGE.devDependencies.cdk8s)
    .replace('{{ constructs_version }}', ROOT_PACKAGE.devDependencies.constructs)
    .replace('"cdk8s-plus-33": "^{{ cdk8s_plus_version }}"', `"cdk8s-plus-${line}": "^${plusVersion}"`);
  const pkg = JSON.parse(fill(fs.readFileSync(path.join(TEMPLATE, 'package.json'), 'utf8')));
  for (const skipped of ['cdk8s-cli', 'jest', 'ts-jest', '@types/jest']) delete pkg.devDependencies[skipped];
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const file of ['tsconfig.json', 'cdk8s.yaml']) fs.copyFileSync(path.join(TEMPLATE, file), path.join(dir, file));
  return dir;
}

/** Every installed package named cdk8s-plus-*, wherever npm put it. */
function installedCdk8sPlus(app: string): string[] {
  const found: string[] = [];
  const walk = (modules: string) => {
    if (!fs.existsSync(modules)) return;
    for (const name of fs.readdirSync(modules)) {
      if (name.startsWith('.')) continue;
      if (name.startsWith('@')) { walk(path.join(modules, name)); continue; }
      if (/^cdk8s-plus-\d+$/.test(name)) found.push(path.relative(app, path.join(modules, name)));
      walk(path.join(modules, name, 'node_modules'));
    }
  };
  walk(path.join(app, 'node_modules'));
  return found.sort();
}

test('the quickstart is written for cdk8s-plus-33 with no casts', () => {
  const code = quickstart();
  expect(code).toContain("from 'cdk8s-plus-33'");
  expect(code).toContain("from 'cdk8s-init-plus-33'");
  expect(code).not.toMatch(/\bas (any|unknown|kplus\.)|<any>/);
});

describe.each(PLUS_LINES.map(l => [l.line, l] as const))('a new cdk8s-plus-%s app', (line, { plusVersion }) => {
  let app: string;
  let tarball: string;

  beforeAll(() => {
    const packageDir = line === DESIGN_LINE ? ROOT : path.join(ROOT, lineDir(line));
    if (!fs.existsSync(path.join(packageDir, 'lib', 'index.js'))) throw new Error(`${packageDir}/lib is not built: npm test compiles every line first`);
    app = newApp(line, plusVersion);
    tarball = path.join(app, run('npm', ['pack', '--silent', '--pack-destination', app, packageDir], ROOT).trim().split('\n').pop()!);
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], app);
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
    fs.writeFileSync(path.join(app, 'main.ts'), quickstart().split('cdk8s-plus-33').join(`cdk8s-plus-${line}`).split('cdk8s-init-plus-33').join(packageName(line)));
  });

  afterAll(() => {
    if (app) fs.rmSync(app, { recursive: true, force: true });
  });

  test('installs one cdk8s-plus, its own line', () => {
    expect(installedCdk8sPlus(app)).toEqual([`node_modules/cdk8s-plus-${line}`]);
    expect(JSON.parse(fs.readFileSync(path.join(app, 'node_modules', packageName(line), 'package.json'), 'utf8')).peerDependencies)
      .toMatchObject({ [`cdk8s-plus-${line}`]: expect.any(String) });
  });

  test('compiles the quickstart with the template\'s tsconfig (npm run compile)', () => {
    run('npm', ['run', 'compile', '--silent'], app);
    expect(fs.existsSync(path.join(app, 'main.js'))).toBe(true);
  });

  test('synthesizes it as cdk8s synth runs the app', () => {
    run('npx', ['ts-node', 'main.ts'], app);
    const docs = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'guide-pod.k8s.yaml'), 'utf8')).map(d => d.toJS());
    const pod = docs.find(d => d.kind === 'Pod');
    expect(pod.metadata.name).toBe('example-pod');
    expect(pod.spec.volumes).toEqual([{ name: 'shared-data', emptyDir: {} }]);
    expect(pod.spec.initContainers).toHaveLength(1);
    expect(pod.spec.initContainers[0]).toMatchObject({
      name: 'init-myservice',
      image: 'busybox:1.36.1',
      terminationMessagePolicy: 'FallbackToLogsOnError',
      volumeMounts: [{ name: 'shared-data', mountPath: '/data', readOnly: false }],
      securityContext: { runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(pod.spec.containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  });
});
