/**
 * The init containers' security context as the kernel applies it on a real
 * kubelet and runtime (containerd, runc): every step's process runs with the
 * uid/gid, supplementary groups, capabilities, no_new_privs, seccomp mode and
 * read-only root that its synthesized securityContext says, read from
 * /proc/self/status inside it. And the kubelet's runAsNonRoot check, which
 * refuses a root image without runAsUser, never hits the library's steps.
 */
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  EnvFileInit, InitSequence, InitStep, SharedVolume, StepSecurity, VolumePermissionsInit, VolumePermissionStrategy, WaitForService, WaitTarget,
} from '../../src';
import { APP_IMAGE, APP_RESOURCES, containerStatuses, find, inNamespaces, podSpecOf, podWhere, synthChart, toYaml, uniqueNamespace } from './util/chart-kit';
import { logs } from './util/kube';
import { capabilityMask, expectedState, parseProbe, prependProbe, PROBE, PROBE_WITH_MOUNT } from './util/proc-status';
import { httpBehind, TOOLS_IMAGE } from './util/stand-ins';
import { applyManifests, workloadReady } from './util/workloads';
import { RESTRICTED_STEP_CONTEXT } from '../util/fixtures';

const BUSYBOX = 'busybox:1.36.1';

/** The restricted profile as /proc shows it for uid/gid 65532. */
const RESTRICTED_65532 = {
  uid: [65532, 65532, 65532, 65532],
  gid: [65532, 65532, 65532, 65532],
  capEff: '0000000000000000',
  capPrm: '0000000000000000',
  capBnd: '0000000000000000',
  noNewPrivs: 1,
  seccomp: 2,
  rootfs: 'rootfs-readonly',
  rootMount: 'ro',
};

describe('init containers\' security context on a real kubelet', () => {
  test('every init container runs with the uid, groups, capabilities, no_new_privs, seccomp and read-only root its manifest says', async () => {
    const ns = uniqueNamespace('sec-ctx');
    const { objects } = synthChart(ns, (chart: Chart) => {
      const backend = new kplus.Service(chart, 'backend', { metadata: { name: 'backend' }, ports: [{ port: 8080 }] });
      const settings = new SharedVolume(chart, 'settings');
      const data = new SharedVolume(chart, 'data');
      const pod = new kplus.Pod(chart, 'steps', {
        metadata: { name: 'steps' },
        containers: [{ name: 'app', image: APP_IMAGE, portNumber: 8080, resources: APP_RESOURCES, securityContext: { user: 1000, group: 1000 } }],
      });
      settings.mount(pod.containers[0], '/etc/app');
      data.mount(pod.containers[0], '/var/lib/app', { readOnly: false });
      InitSequence.of(pod).add(
        // Generic steps whose command is the probe itself.
        new InitStep(chart, 'probe-default', { image: BUSYBOX, command: ['sh', '-c', PROBE_WITH_MOUNT] }),
        new InitStep(chart, 'probe-ids', {
          image: BUSYBOX, command: ['sh', '-c', PROBE_WITH_MOUNT], security: StepSecurity.restricted({ user: 1000, group: 3000 }),
        }),
        new InitStep(chart, 'probe-root-opt-out', {
          image: BUSYBOX,
          command: ['sh', '-c', PROBE_WITH_MOUNT],
          security: StepSecurity.optOut({
            reason: 'e2e: root with two capabilities and a writable root filesystem',
            addCapabilities: [kplus.Capability.KILL, kplus.Capability.NET_RAW],
            readOnlyRootFilesystem: false,
          }),
        }),
        // A non-root opt-out with a capability: it lands in the bounding set only (Kubernetes sets no ambient capabilities).
        new InitStep(chart, 'probe-non-root-cap', {
          image: BUSYBOX,
          command: ['sh', '-c', PROBE_WITH_MOUNT],
          security: StepSecurity.optOut({ reason: 'e2e: non-root with NET_BIND_SERVICE', user: 1000, group: 1000, addCapabilities: [kplus.Capability.NET_BIND_SERVICE] }),
        }),
        // The library's own steps, each with the probe run first in its own container (prependProbe).
        new WaitForService(chart, 'wait-for-backend', { targets: [WaitTarget.httpService(backend, { path: '/healthz' })] }),
        new EnvFileInit(chart, 'write-env', { volume: settings, variables: { GREETING: kplus.EnvValue.fromValue('hello') } }),
        new VolumePermissionsInit(chart, 'own-data', { volume: data, user: 1000, group: 1000, mode: 0o750, strategy: VolumePermissionStrategy.CHOWN }),
      );
    });
    const probed = prependProbe(objects, PROBE_WITH_MOUNT);
    const pod = find(probed, 'Pod');
    const spec = podSpecOf(pod);
    const byName = new Map<string, any>(spec.initContainers.map((c: any) => [c.name, c]));
    await inNamespaces([ns], async () => {
      // As synthesized: the restricted profile, and the opt-outs exactly as asked.
      for (const name of ['probe-default', 'wait-for-backend', 'write-env']) {
        expect(byName.get(name).securityContext).toEqual(RESTRICTED_STEP_CONTEXT);
      }
      expect(byName.get('own-data').securityContext).toEqual({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER', 'DAC_READ_SEARCH'] },
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsGroup: 0,
        runAsNonRoot: false,
        runAsUser: 0,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.securityContext.fsGroup).toBe(1000);
      expect(spec.initContainers.every((c: any) => c.command[2].startsWith(PROBE))).toBe(true);

      await applyManifests(toYaml(probed));
      await httpBehind(ns, 'backend');
      await workloadReady(pod, 120_000);

      const seen = new Map<string, any>();
      for (const c of spec.initContainers) {
        const state = parseProbe(await logs(ns, 'steps', c.name));
        seen.set(c.name, state);
        // What the kernel applied is what the manifest says, container by container.
        expect({ container: c.name, ...state }).toEqual({ container: c.name, ...expectedState(c, spec, true) });
      }
      // And in absolute terms: the restricted profile (the pod's fsGroup 1000 is a supplementary group of every container).
      for (const name of ['probe-default', 'wait-for-backend', 'write-env']) {
        expect({ container: name, ...seen.get(name) }).toEqual({ container: name, ...RESTRICTED_65532, groups: [1000, 65532] });
      }
      expect(seen.get('probe-ids')).toMatchObject({ uid: [1000, 1000, 1000, 1000], gid: [3000, 3000, 3000, 3000], capEff: '0000000000000000', seccomp: 2, noNewPrivs: 1, rootMount: 'ro' });
      // The chown step: root with exactly CHOWN, DAC_READ_SEARCH and FOWNER (bits 0, 2, 3), nothing else, even in the bounding set.
      expect(seen.get('own-data')).toMatchObject({ uid: [0, 0, 0, 0], capEff: '000000000000000d', capPrm: '000000000000000d', capBnd: '000000000000000d', noNewPrivs: 1, seccomp: 2, rootMount: 'ro' });
      expect(capabilityMask(['CHOWN', 'FOWNER', 'DAC_READ_SEARCH'])).toBe('000000000000000d');
      expect(seen.get('probe-root-opt-out')).toMatchObject({ uid: [0, 0, 0, 0], capEff: capabilityMask(['KILL', 'NET_RAW']), rootfs: 'rootfs-writable', rootMount: 'rw', seccomp: 2, noNewPrivs: 1 });
      expect(seen.get('probe-non-root-cap')).toMatchObject({ uid: [1000, 1000, 1000, 1000], capEff: '0000000000000000', capBnd: capabilityMask(['NET_BIND_SERVICE']) });

      // The steps still did their work after the probe: the app reads the env file and writes the chowned volume.
      const appLog = await logs(ns, 'steps', 'app');
      expect(appLog).toContain('app: uid=1000 gid=1000');
      expect(appLog).toMatch(/app: read 1 files in 2 volumes, wrote to 1/);
      expect(await logs(ns, 'steps', 'own-data')).toContain('volume-permissions: /var/run/cdk8s-init/volume is owned by 1000:1000, mode 0750');
    });
  });

  test('a root image under runAsNonRoot without runAsUser is refused by the kubelet; the library\'s steps set runAsUser, so a root image runs', async () => {
    const ns = uniqueNamespace('sec-root');
    const { text, objects } = synthChart(ns, (chart: Chart) => {
      const pod = new kplus.Pod(chart, 'root-image', {
        metadata: { name: 'root-image' },
        // e2e-tools:1 names no user, so it runs as root; runAsNonRoot is cdk8s-plus's default, runAsUser unset.
        containers: [{ name: 'app', image: TOOLS_IMAGE, command: ['sh', '-c', 'sleep 3600'], resources: APP_RESOURCES }],
      });
      InitSequence.of(pod).add(
        // The same root image as a step: restricted, so it runs as 65532.
        new InitStep(chart, 'step-root-image', { image: TOOLS_IMAGE, command: ['sh', '-c', 'id -u; id -g'] }),
        // The library's busybox steps: busybox:1.36.1 names no user either.
        new EnvFileInit(chart, 'write-env', { volume: new SharedVolume(chart, 'settings'), variables: { A: kplus.EnvValue.fromValue('a') }, mode: 0o444 }),
      );
    });
    const spec = podSpecOf(find(objects, 'Pod'));
    await inNamespaces([ns], async () => {
      // As synthesized: every init container sets a non-root runAsUser (an opt-out to root would say runAsNonRoot false).
      for (const c of spec.initContainers) {
        expect(c.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 });
      }
      expect(spec.containers[0].securityContext.runAsNonRoot).toBe(true);
      expect(spec.containers[0].securityContext.runAsUser).toBeUndefined();

      await applyManifests(text);
      const live = await podWhere(ns, 'root-image', 'to have its app container refused', p =>
        containerStatuses(p).get('app')?.state?.waiting?.reason === 'CreateContainerConfigError');
      const statuses = containerStatuses(live);
      expect(statuses.get('app').state.waiting.message).toContain('image will run as root');
      for (const c of spec.initContainers) {
        expect({ name: c.name, terminated: statuses.get(c.name)?.state?.terminated?.exitCode }).toEqual({ name: c.name, terminated: 0 });
      }
      expect((await logs(ns, 'root-image', 'step-root-image')).split('\n').slice(0, 2)).toEqual(['65532', '65532']);
      expect(await logs(ns, 'root-image', 'write-env')).toContain('env-file: wrote 1 variable(s) to app.env');
    });
  });
});
