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
import { InitSequence, WaitForJob } from '../../src';
import { assertWorkload, CDK8S_PLUS_LINE } from '../../src/private/identity';
import { newChart } from '../util/fixtures';

const ROOT = path.join(__dirname, '..', '..');
const RTTI = Symbol.for('jsii.rtti');

test('the line this copy supports is read from cdk8s-plus itself', () => {
  expect(CDK8S_PLUS_LINE).toBe('cdk8s-plus-27');
});

test('a workload of another cdk8s-plus line: the error names that line and the supported one', () => {
  // What jsii puts on cdk8s-plus-33's classes.
  class AbstractPod33 { }
  (AbstractPod33 as any)[RTTI] = { fqn: 'cdk8s-plus-33.AbstractPod', version: '2.4.10' };
  class Deployment33 extends AbstractPod33 { public readonly node = { path: 'app/web' }; }
  (Deployment33 as any)[RTTI] = { fqn: 'cdk8s-plus-33.Deployment', version: '2.4.10' };
  expect(() => assertWorkload('InitSequence.of', new Deployment33()))
    .toThrow('InitSequence.of: "app/web" (Deployment33) is a Deployment of cdk8s-plus-33 2.4.10; this cdk8s-init supports cdk8s-plus-27 workloads');
  expect(() => InitSequence.of(new Deployment33() as any)).toThrow(/is a Deployment of cdk8s-plus-33 2\.4\.10; this cdk8s-init supports cdk8s-plus-27/);
});

test('a Job of another cdk8s-plus line given to WaitForJob: the error names that line', () => {
  class Job33 { public readonly node = { path: 'app/schema' }; public readonly ttlAfterFinished?: Duration; }
  (Job33 as any)[RTTI] = { fqn: 'cdk8s-plus-33.Job', version: '2.4.10' };
  expect(() => new WaitForJob(newChart(), 'wait', { job: new Job33() as any }))
    .toThrow('WaitForJob test/wait: job "app/schema" (Job33) is a Job of cdk8s-plus-33 2.4.10; this cdk8s-init supports cdk8s-plus-27');
});

test('a non-workload of the same line is still "not a pod-bearing workload"', () => {
  const chart = newChart();
  expect(() => InitSequence.of(new kplus.ConfigMap(chart, 'cm') as any)).toThrow('is not a pod-bearing workload');
});

/**
 * Two installs of the package, as npm lays them out when a team-pattern package
 * bundles its own cdk8s-init: app/node_modules/cdk8s-init and
 * app/node_modules/team-pattern/node_modules/cdk8s-init, sharing one cdk8s,
 * cdk8s-plus-27 and constructs. Uses the jsii build in lib/ (npm test compiles it first).
 */
describe('two copies of cdk8s-init in one app', () => {
  let app: string;

  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) throw new Error('lib/ is not built: npm test compiles it before jest');
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'two-copies-'));
    const install = (dir: string) => {
      fs.mkdirSync(dir, { recursive: true });
      for (const entry of ['package.json', 'lib', 'assets']) fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    };
    install(path.join(app, 'node_modules', 'cdk8s-init'));
    const team = path.join(app, 'node_modules', 'team-pattern');
    install(path.join(team, 'node_modules', 'cdk8s-init'));
    for (const dep of ['cdk8s', 'cdk8s-plus-27', 'constructs']) {
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
      const kplus = require('cdk8s-plus-27');
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
