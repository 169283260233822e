/**
 * `npm run examples` output must be admitted by a namespace labelled
 * `pod-security.kubernetes.io/enforce=restricted`: every example app is
 * synthesized as that task does and checked in the whole-pod mode.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { InitContainerPolicy } from '../../src';
import { main } from '../../src/policy/cli';

const ROOT = path.join(__dirname, '..', '..');

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-whole-pod-'));
execFileSync(path.join(ROOT, 'node_modules/.bin/ts-node'), ['--project', 'examples/tsconfig.json', 'examples/synth-all.ts'], {
  cwd: ROOT, env: { ...process.env, EXAMPLES_OUTDIR: outdir }, stdio: 'pipe',
});
const files = fs.readdirSync(outdir).flatMap(app => fs.readdirSync(path.join(outdir, app))
  .filter(f => f.endsWith('.k8s.yaml')).map(f => path.join(outdir, app, f)));
const objects = files.flatMap(f => parseAllDocuments(fs.readFileSync(f, 'utf8')).map(d => d.toJS()));

test('every example workload passes the whole-pod restricted check, with nothing waived', () => {
  const workloads = objects.filter(o => ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind));
  expect(workloads.length).toBeGreaterThanOrEqual(7);
  expect(InitContainerPolicy.format(InitContainerPolicy.checkManifests(objects, { wholePod: true }))).toBe('');
});

test('cdk8s-init-policy --whole-pod accepts the example manifests', () => {
  const out: string[] = [];
  expect(main(['--whole-pod', ...files], l => out.push(l))).toBe(0);
  expect(out.pop()).toMatch(/^cdk8s-init-policy: \d+ object\(s\), 0 finding\(s\), 0 waived \(whole pod\)$/);
});
