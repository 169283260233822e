import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, Testing, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  InitContainerPolicy, InitSequence, SharedVolume, VolumePermissionsInit, WaitForService, WaitTarget,
} from '../../src';
import { main } from '../../src/policy/cli';
import { newChart } from '../util/fixtures';

/** A chart with one compliant step and one opted-out step. */
function compliantChart() {
  const chart = newChart();
  const data = new SharedVolume(chart, 'data');
  const d = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(d).add(
    new WaitForService(chart, 'wait', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })] }),
    new VolumePermissionsInit(chart, 'chown-data', { volume: data, user: 999, group: 999 }),
  );
  return chart;
}

/** Hand-written cdk8s-plus init containers, wrong in every way the policy knows. */
function badChart() {
  const chart = newChart();
  const pod = new kplus.Pod(chart, 'legacy', { metadata: { name: 'legacy' }, containers: [{ name: 'app', image: 'app:1.0' }] });
  pod.addInitContainer({
    name: 'setup',
    image: 'busybox',
    command: ['sh', '-c', 'mysql -h db -uroot -pHunter2 < /schema.sql'],
    envVariables: { DB_PASSWORD: kplus.EnvValue.fromValue('hunter2') },
    securityContext: { ensureNonRoot: false, user: 0, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true },
  });
  // Probes on a plain init container: cdk8s-plus refuses them, raw manifests do not.
  new ApiObject(chart, 'raw', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'raw', namespace: 'ops' },
    spec: {
      containers: [{ name: 'app', image: 'app:1.0' }],
      initContainers: [{
        name: 'warmup',
        image: 'warmup@sha256:' + 'a'.repeat(64),
        args: ['--url', 'postgres://admin:s3cret@db:5432/app'],
        readinessProbe: { exec: { command: ['true'] } },
        securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } },
        resources: { requests: { cpu: '10m', memory: '10Mi' }, limits: { memory: '20Mi' } },
        terminationMessagePolicy: 'FallbackToLogsOnError',
      }],
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    },
  });
  return chart;
}

describe('InitContainerPolicy', () => {
  test('steps of this library comply; an explicit opt-out is reported as waived', () => {
    const findings = InitContainerPolicy.check(compliantChart());
    expect(findings.filter(f => !f.waived)).toEqual([]);
    expect(findings.map(f => [f.container, f.rule, f.waived])).toEqual([
      ['chown-data', 'restricted-profile', true],
      ['chown-data', 'restricted-profile', true],
      ['chown-data', 'restricted-profile', true],
    ]);
    expect(findings.map(f => f.message)).toEqual(['runAsNonRoot is not true', 'runs as uid 0', 'adds capabilities CHOWN, FOWNER, DAC_READ_SEARCH']);
  });

  test('hand-written bad init containers: every finding names the workload, the container and the fix', () => {
    const findings = InitContainerPolicy.check(badChart());
    const summary = findings.map(f => `${f.workload} ${f.container} ${f.rule}: ${f.message}`);
    expect(summary).toEqual([
      'Pod/legacy setup restricted-profile: runAsNonRoot is not true',
      'Pod/legacy setup restricted-profile: runs as uid 0',
      'Pod/legacy setup restricted-profile: allowPrivilegeEscalation is not false',
      'Pod/legacy setup restricted-profile: does not drop ALL capabilities',
      'Pod/legacy setup restricted-profile: has no RuntimeDefault or Localhost seccomp profile',
      'Pod/legacy setup restricted-profile: has a writable root filesystem',
      'Pod/legacy setup pinned-image: image "busybox" is not pinned',
      'Pod/legacy setup termination-message: terminationMessagePolicy is not FallbackToLogsOnError',
      'Pod/legacy setup literal-secret: env DB_PASSWORD has a literal value',
      'Pod/legacy setup literal-secret: command or args contain what looks like a credential',
      'Pod/ops/raw warmup restricted-profile: adds capabilities NET_RAW',
      'Pod/ops/raw warmup literal-secret: command or args contain what looks like a credential',
      'Pod/ops/raw warmup probes: has readinessProbe, which the API server rejects on init containers',
    ]);
    expect(findings.every(f => f.fix.length > 0 && !f.waived)).toBe(true);
    expect(InitContainerPolicy.format(findings).split('\n')[0])
      .toBe('Pod/legacy init container "setup": runAsNonRoot is not true (fix: set securityContext.runAsNonRoot: true)');
  });

  test('missing resources are reported', () => {
    const findings = InitContainerPolicy.checkManifests([{ kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { initContainers: [{ name: 'x', image: 'x:1' }] } } } }]);
    expect(findings.find(f => f.rule === 'resources')?.message).toBe('has no cpu request, memory request, memory limit');
  });

  test('enforce() fails synthesis on findings that are not waived', () => {
    const good = compliantChart();
    InitContainerPolicy.enforce(good);
    expect(() => Testing.synth(good)).not.toThrow();
    const bad = badChart();
    InitContainerPolicy.enforce(bad);
    expect(() => Testing.synth(bad)).toThrow(/Pod\/legacy init container "setup": image "busybox" is not pinned/);
  });

  test('the CLI checks manifests on disk and exits 1 on findings, 0 when clean', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-'));
    const write = (name: string, chart: any) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, Yaml.stringify(...Testing.synth(chart)));
      return file;
    };
    const lines: string[] = [];
    expect(main([write('good.k8s.yaml', compliantChart())], l => lines.push(l))).toBe(0);
    expect(lines.pop()).toMatch(/^cdk8s-init-policy: 1 object\(s\), 0 finding\(s\), 3 waived$/);
    const bad: string[] = [];
    expect(main([write('bad.k8s.yaml', badChart())], l => bad.push(l))).toBe(1);
    expect(bad.pop()).toBe('cdk8s-init-policy: 2 object(s), 13 finding(s), 0 waived');
    expect(main([], () => undefined)).toBe(2);
  });
});
