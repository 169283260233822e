import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { AppContainerHardening } from '../../src';
import { main, USAGE } from '../../src/policy/cli';
import { newChart } from '../util/fixtures';

const ROOT = path.join(__dirname, '..', '..');

/** Runs main() and returns the exit code and what it printed to stdout and stderr. */
function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, l => out.push(l), l => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A manifest file with one Deployment whose app container is hardened or not. */
function manifest(harden: boolean): string {
  const chart = newChart();
  const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, containers: [{ name: 'web', image: 'web:1.0' }] });
  if (harden) AppContainerHardening.restrict(web);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'policy-cli-')), 'app.k8s.yaml');
  fs.writeFileSync(file, Yaml.stringify(...Testing.synth(chart)));
  return file;
}

describe('cdk8s-init-policy', () => {
  test('--help and -h print the usage and exit 2 (no check ran)', () => {
    for (const flag of ['--help', '-h']) {
      expect(run([flag])).toEqual({ code: 2, out: USAGE, err: '' });
    }
    expect(USAGE).toMatch(/^usage: cdk8s-init-policy \[--whole-pod\] FILE\.k8s\.yaml\.\.\./);
  });

  test('a missing file exits 2 naming it, with the usage and no stack trace', () => {
    const r = run(['dist/missing.k8s.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`cdk8s-init-policy: dist/missing.k8s.yaml: no such file\n${USAGE}`);
    expect(r.out).toBe('');
  });

  test('no files, an unknown option, a directory or a file that is not manifests exit 2', () => {
    expect(run([])).toMatchObject({ code: 2, err: expect.stringMatching(/^cdk8s-init-policy: no manifest files given\nusage:/) });
    expect(run(['--wholepod', 'x.yaml'])).toMatchObject({ code: 2, err: expect.stringMatching(/^cdk8s-init-policy: unknown option --wholepod\n/) });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-cli-'));
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'a: [unclosed\n');
    expect(run([path.join(dir, 'bad.yaml')])).toMatchObject({ code: 2, err: expect.stringMatching(/bad\.yaml: document 1 is not a Kubernetes object \(it has no kind\)\n/) });
    expect(run([dir])).toMatchObject({ code: 2, err: expect.stringMatching(/: not a file\n/) });
  });

  test('--whole-pod checks app containers; "--" ends the options', () => {
    const plain = manifest(false);
    expect(run([plain]).code).toBe(0);
    const whole = run(['--whole-pod', plain]);
    expect(whole.code).toBe(1);
    expect(whole.out.split('\n')).toEqual([
      'Deployment/web app container "web": has no RuntimeDefault or Localhost seccomp profile (fix: set securityContext.seccompProfile.type: RuntimeDefault)',
      'Deployment/web app container "web": does not drop ALL capabilities (fix: set securityContext.capabilities.drop: [ALL])',
      'cdk8s-init-policy: 1 object(s), 2 finding(s), 0 waived (whole pod)',
    ]);
    expect(run(['--whole-pod', '--', manifest(true)])).toMatchObject({ code: 0 });
  });

  test('the executable: --help and a missing file exit without a stack trace', () => {
    const bin = (...args: string[]) => spawnSync(path.join(ROOT, 'node_modules/.bin/ts-node'), ['--transpile-only', 'src/policy/cli.ts', ...args], {
      cwd: ROOT, encoding: 'utf8',
    });
    const help = bin('--help');
    expect([help.status, help.stdout.trim(), help.stderr]).toEqual([2, USAGE, '']);
    const missing = bin('missing.k8s.yaml');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`cdk8s-init-policy: missing.k8s.yaml: no such file\n${USAGE}\n`);
  }, 60_000);
});
