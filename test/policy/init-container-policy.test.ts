import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, Chart, Duration, JsonPatch, Testing, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  AppContainerHardening, InitContainerPolicy, InitSequence, InitStep, KubernetesTarget, SharedVolume, StepSecurity, VolumePermissionsInit,
  WaitForService, WaitTarget,
} from '../../src';
import { main } from '../../src/policy/cli';
import { waiverKey as waiverKeyOf } from '../../src/private/waivers';
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
  test('steps of this library comply; an opt-out waives exactly the rules it breaks, with its reason', () => {
    const findings = InitContainerPolicy.check(compliantChart());
    expect(findings.filter(f => !f.waived)).toEqual([]);
    expect(findings.map(f => [f.container, f.rule, f.waiver, f.waived])).toEqual([
      ['chown-data', 'run-as-non-root', 'chown-data.waivers.cdk8s-init.io/run-as-non-root', true],
      ['chown-data', 'run-as-non-root', 'chown-data.waivers.cdk8s-init.io/run-as-non-root', true],
      ['chown-data', 'capabilities', 'chown-data.waivers.cdk8s-init.io/capabilities.CHOWN', true],
      ['chown-data', 'capabilities', 'chown-data.waivers.cdk8s-init.io/capabilities.FOWNER', true],
      ['chown-data', 'capabilities', 'chown-data.waivers.cdk8s-init.io/capabilities.DAC_READ_SEARCH', true],
    ]);
    expect(findings.map(f => f.message)).toEqual([
      'runAsNonRoot is not true', 'runs as uid 0', 'adds capability CHOWN', 'adds capability FOWNER', 'adds capability DAC_READ_SEARCH',
    ]);
  });

  test('hand-written bad init containers: every finding names the workload, the container and the fix', () => {
    const findings = InitContainerPolicy.check(badChart());
    const summary = findings.map(f => `${f.workload} ${f.container} ${f.rule}: ${f.message}`);
    expect(summary).toEqual([
      'Pod/legacy setup privilege-escalation: allowPrivilegeEscalation is not false',
      'Pod/legacy setup run-as-non-root: runAsNonRoot is not true',
      'Pod/legacy setup run-as-non-root: runs as uid 0',
      'Pod/legacy setup seccomp: has no RuntimeDefault or Localhost seccomp profile',
      'Pod/legacy setup capabilities: does not drop ALL capabilities',
      'Pod/legacy setup read-only-root-filesystem: has a writable root filesystem',
      'Pod/legacy setup pinned-image: image "busybox" is not pinned',
      'Pod/legacy setup termination-message: terminationMessagePolicy is not FallbackToLogsOnError',
      'Pod/legacy setup literal-secret: env DB_PASSWORD has a literal value',
      'Pod/legacy setup literal-secret: command or args contain what looks like a credential',
      'Pod/ops/raw warmup capabilities: adds capability NET_RAW',
      'Pod/ops/raw warmup literal-secret: command or args contain what looks like a credential',
      'Pod/ops/raw warmup probes: has readinessProbe, which the API server rejects on init containers',
    ]);
    expect(findings.every(f => f.fix.length > 0 && !f.waived)).toBe(true);
    expect(InitContainerPolicy.format(findings).split('\n')[1])
      .toBe('Pod/legacy init container "setup": runAsNonRoot is not true (fix: set securityContext.runAsNonRoot: true)');
    // NET_RAW is outside the baseline set: even a baseline namespace rejects it.
    expect(findings.filter(f => f.rule === 'capabilities').map(f => [f.container, f.podSecurityLevel])).toEqual([
      ['setup', 'restricted'], ['warmup', 'baseline'],
    ]);
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
    expect(lines.pop()).toMatch(/^cdk8s-init-policy: 1 object\(s\), 0 finding\(s\), 5 waived$/);
    const bad: string[] = [];
    expect(main([write('bad.k8s.yaml', badChart())], l => bad.push(l))).toBe(1);
    expect(bad.pop()).toBe('cdk8s-init-policy: 2 object(s), 13 finding(s), 0 waived');
    expect(main([], () => undefined, () => undefined)).toBe(2);
  });

  describe('Pod Security Standards baseline', () => {
    /** A restricted init container, to which each test adds one violation. */
    const good = (extra: any = {}) => ({
      name: 'init',
      image: 'init:1.0',
      resources: { requests: { cpu: '10m', memory: '10Mi' }, limits: { memory: '20Mi' } },
      terminationMessagePolicy: 'FallbackToLogsOnError',
      ...extra,
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
        ...extra.securityContext,
      },
    });
    const pod = (spec: any, annotations: any = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', annotations },
      spec: { containers: [{ name: 'app', image: 'app:1.0' }], initContainers: [good()], ...spec },
    });
    const check = (obj: any) => InitContainerPolicy.checkManifests([obj]).map(f => `${f.container ?? 'pod'} ${f.rule} ${f.podSecurityLevel}: ${f.message}`);

    test('a restricted init container has no findings', () => {
      expect(check(pod({}))).toEqual([]);
    });

    test('pod fields: host namespaces, hostPath and other volume types, unsafe sysctls, SELinux, AppArmor, seccomp, root', () => {
      expect(check(pod({
        hostNetwork: true,
        hostPID: true,
        hostIPC: true,
        volumes: [{ name: 'host', hostPath: { path: '/var/run' } }, { name: 'share', nfs: { server: 'nfs', path: '/' } }, { name: 'tmp', emptyDir: {} }],
        securityContext: {
          sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'kernel.msgmax', value: '1' }],
          seLinuxOptions: { type: 'spc_t' },
          appArmorProfile: { type: 'Unconfined' },
          seccompProfile: { type: 'Unconfined' },
          runAsUser: 0,
          runAsNonRoot: false,
          windowsOptions: { hostProcess: true },
        },
      }))).toEqual([
        "pod host-namespaces baseline: shares the node's namespaces (hostNetwork: true, hostPID: true, hostIPC: true)",
        'pod host-process baseline: is a Windows HostProcess pod',
        "pod host-path baseline: mounts the node's filesystem (hostPath volume host)",
        'pod volume-types restricted: has volume types the restricted level forbids: share (nfs)',
        'pod sysctls baseline: sets unsafe sysctls kernel.msgmax',
        'pod run-as-non-root restricted: securityContext.runAsNonRoot is false',
        'pod run-as-non-root restricted: securityContext.runAsUser is 0',
        'pod seccomp baseline: seccomp profile is Unconfined',
        'pod selinux baseline: sets SELinux type spc_t',
        'pod apparmor baseline: AppArmor profile is Unconfined',
      ]);
    });

    test('container fields: privileged, hostPort, capabilities beyond the baseline set, procMount, SELinux, AppArmor, seccomp', () => {
      expect(check(pod({
        initContainers: [good({
          ports: [{ containerPort: 80, hostPort: 80 }],
          securityContext: {
            privileged: true,
            procMount: 'Unmasked',
            seLinuxOptions: { user: 'system_u', type: 'container_t' },
            seccompProfile: { type: 'Unconfined' },
            capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'KILL', 'NET_BIND_SERVICE'] },
            windowsOptions: { hostProcess: true },
          },
        })],
      }, { 'container.apparmor.security.beta.kubernetes.io/init': 'unconfined' }))).toEqual([
        'init privileged baseline: is privileged',
        'init host-process baseline: is a Windows HostProcess container',
        'init host-ports baseline: uses host port 80',
        'init proc-mount baseline: procMount is Unmasked',
        'init selinux baseline: sets SELinux user system_u',
        'init apparmor baseline: AppArmor profile is unconfined',
        'init seccomp baseline: seccomp profile is Unconfined',
        'init capabilities baseline: adds capability SYS_ADMIN',
        'init capabilities restricted: adds capability KILL',
      ]);
    });

    test('allowed values pass: safe sysctls, restricted volume types, localhost AppArmor, container_init_t, Localhost seccomp, pod-level seccomp', () => {
      expect(check(pod({
        volumes: ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'].map((t, i) => ({ name: `v${i}`, [t]: {} })),
        securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }], seccompProfile: { type: 'RuntimeDefault' }, runAsNonRoot: true },
        initContainers: [good({ securityContext: { seLinuxOptions: { type: 'container_init_t', level: 's0:c1' }, seccompProfile: undefined } })],
      }, { 'container.apparmor.security.beta.kubernetes.io/init': 'localhost/my-profile' }))).toEqual([]);
      expect(check(pod({ initContainers: [good({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } } })] }))).toEqual([]);
    });

    test('ephemeral containers are checked against the Pod Security Standards', () => {
      expect(check(pod({ ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36.1', securityContext: { privileged: true } }] }))).toEqual([
        'debug privileged baseline: is privileged',
        'debug privilege-escalation restricted: allowPrivilegeEscalation is not false',
        'debug run-as-non-root restricted: runAsNonRoot is not true',
        'debug seccomp restricted: has no RuntimeDefault or Localhost seccomp profile',
        'debug capabilities restricted: does not drop ALL capabilities',
      ]);
      expect(InitContainerPolicy.format(InitContainerPolicy.checkManifests([pod({ ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36.1', securityContext: { privileged: true } }] })]))
        .split('\n')[0]).toBe('Pod/p ephemeral container "debug": is privileged (fix: remove securityContext.privileged)');
    });

    test('PodTemplate and ReplicationController objects are checked', () => {
      const spec = { containers: [{ name: 'app', image: 'app:1.0' }], initContainers: [good({ securityContext: { privileged: true } })] };
      expect(InitContainerPolicy.checkManifests([
        { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 't' }, template: { spec } },
        { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc' }, spec: { template: { spec } } },
      ]).map(f => `${f.workload} ${f.rule}`)).toEqual(['PodTemplate/t privileged', 'ReplicationController/rc privileged']);
    });

    test('pod fields are not reported for a pod without init or ephemeral containers, unless the whole pod is checked', () => {
      const hostNetwork = pod({ initContainers: [], hostNetwork: true });
      expect(InitContainerPolicy.checkManifests([hostNetwork])).toEqual([]);
      expect(InitContainerPolicy.format(InitContainerPolicy.checkManifests([pod({ hostNetwork: true })])))
        .toBe("Pod/p pod: shares the node's namespaces (hostNetwork: true) (fix: remove hostNetwork)");
      expect(InitContainerPolicy.checkManifests([hostNetwork], { wholePod: true }).map(f => f.rule)).toContain('host-namespaces');
    });
  });

  describe('waivers', () => {
    /** A step opted out for CHOWN only, then made privileged with SYS_ADMIN by someone else's patch. */
    function escalatedChart() {
      const chart = newChart();
      const pod = new kplus.Pod(chart, 'pod', { metadata: { name: 'pod' }, containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(pod).add(new InitStep(chart, 'chown', {
        image: 'busybox:1.36.1',
        security: StepSecurity.optOut({ reason: 'chown the data volume', addCapabilities: [kplus.Capability.CHOWN] }),
      }));
      ApiObject.of(pod).addJsonPatch(JsonPatch.add('/spec/initContainers/0/securityContext/privileged', true));
      const manifest = () => Testing.synth(chart)[0];
      return { chart, manifest };
    }

    test('are recorded per rule, with the reason, as valid annotation keys', () => {
      const [obj] = Testing.synth(escalatedChart().chart);
      expect(obj.metadata.annotations).toEqual({
        'chown.waivers.cdk8s-init.io/run-as-non-root': 'chown the data volume',
        'chown.waivers.cdk8s-init.io/capabilities.CHOWN': 'chown the data volume',
      });
    });

    test('an opt-out for CHOWN does not waive privileged or SYS_ADMIN', () => {
      const { manifest } = escalatedChart();
      const obj = manifest();
      obj.spec.initContainers[0].securityContext.capabilities.add.push('SYS_ADMIN');
      const findings = InitContainerPolicy.checkManifests([obj]);
      expect(findings.map(f => [f.rule, f.message, f.waived])).toEqual([
        ['privileged', 'is privileged', false],
        ['run-as-non-root', 'runAsNonRoot is not true', true],
        ['run-as-non-root', 'runs as uid 0', true],
        ['capabilities', 'adds capability CHOWN', true],
        ['capabilities', 'adds capability SYS_ADMIN', false],
      ]);
    });

    test('the old blanket annotation waives nothing', () => {
      const { manifest } = escalatedChart();
      const obj = manifest();
      obj.metadata.annotations = { 'security.cdk8s-init.io/chown': 'chown the data volume' };
      expect(InitContainerPolicy.checkManifests([obj]).filter(f => f.waived)).toEqual([]);
    });

    test('a waiver of a bare rule covers its items; a pod-level waiver covers a pod rule', () => {
      const obj = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'p',
          annotations: { 'setup.waivers.cdk8s-init.io/capabilities': 'vendor image needs them', 'waivers.cdk8s-init.io/host-namespaces': 'node agent' },
        },
        spec: {
          hostNetwork: true,
          containers: [{ name: 'app', image: 'app:1.0' }],
          initContainers: [{ name: 'setup', image: 'setup:1.0', securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }],
        },
      };
      const waived = InitContainerPolicy.checkManifests([obj]).filter(f => f.waived).map(f => `${f.container ?? 'pod'} ${f.message}`);
      expect(waived).toEqual([
        "pod shares the node's namespaces (hostNetwork: true)",
        'setup does not drop ALL capabilities',
        'setup adds capability NET_ADMIN',
        'setup adds capability NET_RAW',
      ]);
    });

    test('every waiver key is a valid annotation key, even for a 63-character container name', () => {
      const name = 'a'.repeat(63);
      const key = waiverKeyOf(name, 'read-only-root-filesystem');
      const [prefix, suffix] = key.split('/');
      expect(prefix.length).toBeLessThanOrEqual(253);
      expect(prefix.split('.').every(l => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(l) && l.length <= 63)).toBe(true);
      expect(suffix).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
      expect(suffix.length).toBeLessThanOrEqual(63);
    });
  });

  describe('whole-pod mode: what a namespace enforcing the restricted level rejects', () => {
    function appChart(harden: boolean) {
      const chart = newChart();
      const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, containers: [{ name: 'web', image: 'web:1.0' }] });
      InitSequence.of(web).add(new WaitForService(chart, 'wait', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })] }));
      if (harden) AppContainerHardening.restrict(web);
      return chart;
    }

    test('reports app containers that cdk8s-plus leaves without drop ALL and seccomp; the default mode does not', () => {
      const chart = appChart(false);
      expect(InitContainerPolicy.check(chart)).toEqual([]);
      expect(InitContainerPolicy.format(InitContainerPolicy.check(chart, { wholePod: true })).split('\n')).toEqual([
        'Deployment/web app container "web": has no RuntimeDefault or Localhost seccomp profile (fix: set securityContext.seccompProfile.type: RuntimeDefault)',
        'Deployment/web app container "web": does not drop ALL capabilities (fix: set securityContext.capabilities.drop: [ALL])',
      ]);
    });

    test('AppContainerHardening.restrict makes the pod pass', () => {
      expect(InitContainerPolicy.check(appChart(true), { wholePod: true })).toEqual([]);
    });

    test('waivers do not apply to Pod Security findings (the admission controller ignores them), but still to the project rules', () => {
      const chart = compliantChart();
      const obj = Testing.synth(chart)[0];
      obj.metadata.name = 'web';
      obj.spec.template.metadata.annotations['chown-data.waivers.cdk8s-init.io/termination-message'] = 'test';
      delete obj.spec.template.spec.initContainers[1].terminationMessagePolicy;
      const findings = InitContainerPolicy.checkManifests([obj], { wholePod: true }).filter(f => f.container === 'chown-data');
      expect(findings.map(f => [f.rule, f.podSecurityLevel, f.waived])).toEqual([
        ['run-as-non-root', 'restricted', false],
        ['run-as-non-root', 'restricted', false],
        ['capabilities', 'restricted', false],
        ['capabilities', 'restricted', false],
        ['capabilities', 'baseline', false],
        ['termination-message', undefined, true],
      ]);
    });

    test('enforce(chart, { wholePod: true }) fails synthesis naming the app container', () => {
      const chart = appChart(false);
      InitContainerPolicy.enforce(chart, { wholePod: true });
      expect(() => Testing.synth(chart)).toThrow(/Deployment\/web app container "web": does not drop ALL capabilities/);
      const hardened = appChart(true);
      InitContainerPolicy.enforce(hardened, { wholePod: true });
      expect(() => Testing.synth(hardened)).not.toThrow();
    });
  });

  describe('native sidecars (restartPolicy: Always) are checked as the long-running init containers they are', () => {
    /** A chart whose app targets Kubernetes 1.30: native sidecars need a declared target. */
    function sidecarChart(): Chart {
      const app = Testing.app();
      new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
      return new Chart(app, 'test');
    }

    /** A restricted container that meets every project rule; `extra` adds or overrides fields. */
    const restricted = (name: string, extra: any = {}) => ({
      name,
      image: `${name}:1.0`,
      resources: { requests: { cpu: '10m', memory: '10Mi' }, limits: { memory: '20Mi' } },
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
      ...extra,
    });
    const pod = (initContainers: any[], annotations: any = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', annotations },
      spec: { containers: [restricted('app')], initContainers },
    });
    const PROBES = {
      startupProbe: { tcpSocket: { port: 5432 }, periodSeconds: 1, failureThreshold: 30 },
      readinessProbe: { exec: { command: ['true'] } },
      livenessProbe: { httpGet: { path: '/healthz', port: 9090 } },
      lifecycle: { preStop: { exec: { command: ['sleep', '5'] } }, postStart: { exec: { command: ['true'] } } },
    };

    test('a sidecar step of this library with all three probes complies, in both modes', () => {
      const chart = sidecarChart();
      const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, containers: [{ name: 'web', image: 'web:1.0' }] });
      AppContainerHardening.restrict(web);
      InitSequence.of(web).add(new InitStep(chart, 'proxy', {
        image: 'proxy:2.14.0',
        sidecar: {
          startupProbe: kplus.Probe.fromTcpSocket({ port: 5432, periodSeconds: Duration.seconds(1), failureThreshold: 30 }),
          readinessProbe: kplus.Probe.fromCommand(['true']),
          livenessProbe: kplus.Probe.fromHttpGet('/healthz', { port: 9090 }),
        },
      }));
      const [obj] = Testing.synth(chart);
      expect(obj.spec.template.spec.initContainers[0]).toMatchObject({ restartPolicy: 'Always', startupProbe: {}, readinessProbe: {}, livenessProbe: {} });
      expect(InitContainerPolicy.check(chart)).toEqual([]);
      expect(InitContainerPolicy.check(chart, { wholePod: true })).toEqual([]);
    });

    test('probes and lifecycle hooks are allowed on a sidecar; on an ordinary init container each is a finding', () => {
      expect(InitContainerPolicy.checkManifests([pod([restricted('proxy', { restartPolicy: 'Always', ...PROBES })])])).toEqual([]);
      const plain = InitContainerPolicy.checkManifests([pod([
        restricted('warmup', { startupProbe: PROBES.startupProbe }),
        restricted('hooked', { lifecycle: PROBES.lifecycle }),
        restricted('both', { ...PROBES, restartPolicy: 'OnFailure' }),
      ])]);
      expect(plain.map(f => [f.container, f.containerKind, f.rule, f.message])).toEqual([
        ['warmup', 'init', 'probes', 'has startupProbe, which the API server rejects on init containers'],
        ['hooked', 'init', 'probes', 'has lifecycle, which the API server rejects on init containers'],
        ['both', 'init', 'probes', 'has livenessProbe, readinessProbe, startupProbe, lifecycle, which the API server rejects on init containers'],
      ]);
      expect(plain[0].fix).toBe('remove them, or make it a native sidecar (restartPolicy: Always)');
    });

    /** A container wrong in every way an init container can be, as an init container or a sidecar. */
    const bad = (sidecar: boolean) => ({
      name: 'agent',
      image: 'agent',
      args: ['--token=s3cret'],
      env: [{ name: 'API_TOKEN', value: 'hunter2' }],
      ...sidecar ? { restartPolicy: 'Always', ...PROBES } : {},
    });

    test('a sidecar that is not restricted gets every finding an init container gets, as kind "sidecar"', () => {
      const asInit = InitContainerPolicy.checkManifests([pod([bad(false)])]);
      const asSidecar = InitContainerPolicy.checkManifests([pod([bad(true)])]);
      // The same rules, in the same order, but probes (allowed on the sidecar only).
      expect(asSidecar.map(f => [f.rule, f.podSecurityLevel, f.message])).toEqual(asInit.filter(f => f.rule !== 'probes').map(f => [f.rule, f.podSecurityLevel, f.message]));
      expect(asSidecar.map(f => f.rule)).toEqual([
        'privilege-escalation', 'run-as-non-root', 'seccomp', 'capabilities',
        'read-only-root-filesystem', 'resources', 'pinned-image', 'termination-message', 'literal-secret', 'literal-secret',
      ]);
      expect(new Set(asSidecar.map(f => f.containerKind))).toEqual(new Set(['sidecar']));
      expect(new Set(asInit.map(f => f.containerKind))).toEqual(new Set(['init']));
      expect(InitContainerPolicy.format(asSidecar).split('\n')[0])
        .toBe('Pod/p sidecar container "agent": allowPrivilegeEscalation is not false (fix: set securityContext.allowPrivilegeEscalation: false)');
    });

    test('waivers name the container, not its kind: an opt-out sidecar step waives exactly what it breaks', () => {
      const chart = sidecarChart();
      const pod2 = new kplus.Pod(chart, 'pod', { metadata: { name: 'pod' }, containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(pod2).add(new InitStep(chart, 'agent', {
        image: 'agent:1.2.3',
        security: StepSecurity.optOut({ reason: 'reads the node log directory', addCapabilities: [kplus.Capability.DAC_READ_SEARCH] }),
        sidecar: {},
      }));
      const findings = InitContainerPolicy.check(chart);
      expect(findings.map(f => [f.containerKind, f.rule, f.waiver, f.waived])).toEqual([
        ['sidecar', 'run-as-non-root', 'agent.waivers.cdk8s-init.io/run-as-non-root', true],
        ['sidecar', 'run-as-non-root', 'agent.waivers.cdk8s-init.io/run-as-non-root', true],
        ['sidecar', 'capabilities', 'agent.waivers.cdk8s-init.io/capabilities.DAC_READ_SEARCH', true],
      ]);
      expect(InitContainerPolicy.format(findings).split('\n')[0]).toBe('[waived] Pod/pod sidecar container "agent": runAsNonRoot is not true (fix: set securityContext.runAsNonRoot: true)');
    });

    test('whole-pod mode: a sidecar\'s Pod Security findings are not waivable, its project rules are, as for an init container', () => {
      const annotations = {
        'agent.waivers.cdk8s-init.io/capabilities': 'vendor image',
        'agent.waivers.cdk8s-init.io/pinned-image': 'vendor image',
      };
      const summary = (sidecar: boolean, wholePod: boolean) => InitContainerPolicy.checkManifests([pod([bad(sidecar)], annotations)], { wholePod })
        .filter(f => f.rule === 'capabilities' || f.rule === 'pinned-image')
        .map(f => [f.containerKind, f.rule, f.podSecurityLevel, f.waived]);
      expect(summary(true, false)).toEqual([['sidecar', 'capabilities', 'restricted', true], ['sidecar', 'pinned-image', undefined, true]]);
      expect(summary(true, true)).toEqual([['sidecar', 'capabilities', 'restricted', false], ['sidecar', 'pinned-image', undefined, true]]);
      expect(summary(false, true)).toEqual([['init', 'capabilities', 'restricted', false], ['init', 'pinned-image', undefined, true]]);
    });

    test('the CLI reports a sidecar as such', () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'policy-')), 'sidecar.k8s.yaml');
      fs.writeFileSync(file, Yaml.stringify(pod([restricted('proxy', { restartPolicy: 'Always', image: 'proxy', ...PROBES })])));
      const out: string[] = [];
      expect(main([file], l => out.push(l))).toBe(1);
      expect(out).toEqual([
        'Pod/p sidecar container "proxy": image "proxy" is not pinned (fix: pin the image to a version tag or a sha256 digest)',
        'cdk8s-init-policy: 1 object(s), 1 finding(s), 0 waived',
      ]);
    });
  });
});
