/**
 * Library objects are recognised by brand, not instanceof, so a second copy of
 * cdk8s-init (or a workload of another cdk8s-plus line) gets an error that says so.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DESIGN_LINE, lineDir, PLUS_LINES } from '../../projenrc/lines';
import { InitSequence, WaitForJob } from '../../src';
import { assertWorkload, CDK8S_PLUS_LINE, SUPPORTED_LINES } from '../../src/private/identity';
import { newChart } from '../util/fixtures';
import { PLUS_LINE } from '../util/line';

const ROOT = path.join(__dirname, '..', '..');
/** The package under test: the repo itself for the design line, else the line's build. */
const PACKAGE = PLUS_LINE === DESIGN_LINE ? ROOT : path.join(ROOT, lineDir(PLUS_LINE));
const RTTI = Symbol.for('jsii.rtti');

/** Another supported line than the one under test. */
const OTHER = PLUS_LINE === 33 ? 32 : 33;
const THIS_PACKAGE = `cdk8s-init-plus-${PLUS_LINE}`;

test('the line this copy supports is read from cdk8s-plus itself', () => {
  expect(CDK8S_PLUS_LINE).toBe(`cdk8s-plus-${PLUS_LINE}`);
});

test('the lines named in errors are the lines with a package', () => {
  expect(SUPPORTED_LINES).toEqual(PLUS_LINES.map(l => l.line));
});

/** A class as jsii marks the classes of cdk8s-plus-<line>. */
function foreignClass<T extends new (...args: any[]) => object>(base: T, fqn: string): T {
  const marked = class extends base { };
  Object.defineProperty(marked, 'name', { value: `${fqn.split('.')[1]}${fqn.split('.')[0].split('-')[2]}` });
  (marked as any)[RTTI] = { fqn, version: '2.4.10' };
  return marked;
}

test('a workload of another supported cdk8s-plus line: the error names that line and its cdk8s-init package', () => {
  const AbstractPodOther = foreignClass(class { }, `cdk8s-plus-${OTHER}.AbstractPod`);
  const DeploymentOther = foreignClass(class extends AbstractPodOther { public readonly node = { path: 'app/web' }; }, `cdk8s-plus-${OTHER}.Deployment`);
  expect(() => assertWorkload('InitSequence.of', new DeploymentOther())).toThrow(
    `InitSequence.of: "app/web" (Deployment${OTHER}) is a Deployment of cdk8s-plus-${OTHER} 2.4.10; this cdk8s-init (${THIS_PACKAGE}) ` +
    `supports cdk8s-plus-${PLUS_LINE} workloads; install the package for the app's line instead: cdk8s-init-plus-${OTHER}`);
  expect(() => InitSequence.of(new DeploymentOther() as any)).toThrow(`is a Deployment of cdk8s-plus-${OTHER} 2.4.10`);
});

test('a workload of a line without a package: the error lists the lines that have one', () => {
  const AbstractPod30 = foreignClass(class { }, 'cdk8s-plus-30.AbstractPod');
  const Deployment30 = foreignClass(class extends AbstractPod30 { public readonly node = { path: 'app/web' }; }, 'cdk8s-plus-30.Deployment');
  expect(() => assertWorkload('InitSequence.of', new Deployment30())).toThrow(
    `is a Deployment of cdk8s-plus-30 2.4.10; this cdk8s-init (${THIS_PACKAGE}) supports cdk8s-plus-${PLUS_LINE} workloads; ` +
    'cdk8s-init has packages for cdk8s-plus-27, 32, 33, 34: use one of those lines for the app and its package cdk8s-init-plus-<line>');
});

test('a Job of another cdk8s-plus line given to WaitForJob: the error names that line', () => {
  const JobOther = foreignClass(class { public readonly node = { path: 'app/schema' }; public readonly ttlAfterFinished?: Duration; }, `cdk8s-plus-${OTHER}.Job`);
  expect(() => new WaitForJob(newChart(), 'wait', { job: new JobOther() as any })).toThrow(
    `WaitForJob test/wait: job "app/schema" (Job${OTHER}) is a Job of cdk8s-plus-${OTHER} 2.4.10; this cdk8s-init (${THIS_PACKAGE}) supports cdk8s-plus-${PLUS_LINE}`);
});

test('a non-workload of the same line is still "not a pod-bearing workload"', () => {
  const chart = newChart();
  expect(() => InitSequence.of(new kplus.ConfigMap(chart, 'cm') as any)).toThrow('is not a pod-bearing workload');
});

/**
 * Two installs of the package, as npm lays them out when a team-pattern package
 * bundles its own cdk8s-init: app/node_modules/cdk8s-init and
 * app/node_modules/team-pattern/node_modules/cdk8s-init, sharing one cdk8s,
 * cdk8s-plus and constructs. Uses the jsii build of the line under test (lib/, or
 * build/plus-<line>/lib/; npm test compiles them first).
 */
describe('two copies of cdk8s-init in one app', () => {
  let app: string;

  beforeAll(() => {
    if (!fs.existsSync(path.join(PACKAGE, 'lib', 'index.js'))) throw new Error(`${PACKAGE}/lib is not built: npm test compiles it before jest`);
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'two-copies-'));
    const install = (dir: string) => {
      fs.mkdirSync(dir, { recursive: true });
      for (const entry of ['package.json', 'lib', 'assets']) fs.cpSync(path.join(PACKAGE, entry), path.join(dir, entry), { recursive: true });
    };
    install(path.join(app, 'node_modules', 'cdk8s-init'));
    const team = path.join(app, 'node_modules', 'team-pattern');
    install(path.join(team, 'node_modules', 'cdk8s-init'));
    for (const dep of ['cdk8s', `cdk8s-plus-${PLUS_LINE}`, 'constructs']) {
      fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(app, 'node_modules', dep), 'dir');
    }
    fs.writeFileSync(path.join(team, 'package.json'), JSON.stringify({ name: 'team-pattern', version: '1.0.0', main: 'index.js' }));
    fs.writeFileSync(path.join(team, 'index.js'), `
      const { ConfigFetchInit, ConfigSource, WaitForService, WaitTarget } = require('cdk8s-init');
      exports.waitForDb = (scope) => new WaitForService(scope, 'wait-for-db', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })] });
      exports.fetchInto = (scope, volume) => new ConfigFetchInit(scope, 'fetch', {
        volume, source: ConfigSource.http({ files: [{ url: 'https://config.example.com/a.json', path: 'a.json' }] }),
      });
    `);
  });

  afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

  const run = (body: string) => {
    fs.writeFileSync(path.join(app, 'main.js'), `
      const { App, Chart } = require('cdk8s');
      const kplus = require('cdk8s-plus-${PLUS_LINE}');
      const { InitSequence, SharedVolume } = require('cdk8s-init');
      const { fetchInto, waitForDb } = require('team-pattern');
      const chart = new Chart(new App(), 'app');
      const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
      try { ${body}; console.log('ok'); } catch (e) { console.log(e.message); process.exitCode = 1; }
    `);
    try {
      return execFileSync('node', ['main.js'], { cwd: app, encoding: 'utf8' }).trim();
    } catch (e: any) {
      return String(e.stdout).trim();
    }
  };

  test('the two copies really are two', () => {
    const resolved = execFileSync('node', ['-e', `
      console.log(require.resolve('cdk8s-init'));
      console.log(require.resolve('cdk8s-init', { paths: [require.resolve('team-pattern')] }));
    `], { cwd: app, encoding: 'utf8' }).trim().split('\n');
    expect(new Set(resolved).size).toBe(2);
  });

  test('adding the team copy\'s step to the app copy\'s sequence fails, saying two copies are installed', () => {
    const out = run('InitSequence.of(web).add(waitForDb(chart))');
    expect(out).toMatch(/^InitSequence app\/web\/InitSequence: step app\/wait-for-db comes from another copy of cdk8s-init \(.*team-pattern\/node_modules\/cdk8s-init\); this one is .*two-copies-[^/]+\/node_modules\/cdk8s-init\. Two copies of cdk8s-init are installed/);
  });

  test('the app copy\'s SharedVolume given to the team copy\'s step: the error says two copies are installed', () => {
    const out = run("fetchInto(chart, new SharedVolume(chart, 'config'))");
    expect(out).toMatch(/^ConfigFetchInit app\/fetch: volume comes from another copy of cdk8s-init .*Two copies of cdk8s-init are installed/);
  });

  test('the team copy attaching to a workload the app copy already manages fails the same way', () => {
    const teamInit = "require(require.resolve('cdk8s-init', { paths: [require.resolve('team-pattern')] }))";
    const out = run(`InitSequence.of(web); ${teamInit}.InitSequence.of(web)`);
    expect(out).toMatch(/comes from another copy of cdk8s-init .*Two copies of cdk8s-init are installed/);
  });
});
