import { ApiObject, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { AppContainerHardening, InitContainerPolicy, InitSequence, WaitForService, WaitTarget } from '../src';
import { everyWorkload, newChart } from './util/fixtures';
import { podSpecOf, synthValid } from './util/manifest';

describe('AppContainerHardening.restrict', () => {
  test('every pod-bearing kind: app containers drop ALL and get seccomp RuntimeDefault; the whole pod passes', () => {
    const chart = newChart();
    const workloads = everyWorkload(chart);
    for (const w of Object.values(workloads)) {
      w.addContainer({ name: 'sidecar', image: 'sidecar:1.0' });
      AppContainerHardening.restrict(w);
    }
    const objects = synthValid(chart);
    for (const obj of objects.filter(o => podSpecOf(o))) {
      expect(podSpecOf(obj).containers.map((c: any) => c.securityContext)).toEqual([0, 1].map(() => ({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      })));
    }
    expect(InitContainerPolicy.checkManifests(objects, { wholePod: true })).toEqual([]);
  });

  test('netBindService adds NET_BIND_SERVICE, as does a NET_BIND_SERVICE the container already asks for', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', {
      containers: [
        { name: 'a', image: 'a:1.0' },
        { name: 'b', image: 'b:1.0', securityContext: { capabilities: { add: [kplus.Capability.NET_BIND_SERVICE] } } },
      ],
    });
    AppContainerHardening.restrict(pod, { netBindService: false });
    const [a, b] = podSpecOf(synthValid(chart)[0]).containers;
    expect([a.securityContext.capabilities, b.securityContext.capabilities]).toEqual([{ drop: ['ALL'] }, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }]);
    const other = newChart();
    AppContainerHardening.restrict(new kplus.Pod(other, 'pod', { containers: [{ name: 'a', image: 'a:1.0' }] }), { netBindService: true });
    expect(podSpecOf(synthValid(other)[0]).containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  });

  test('steps keep their own hardening, and init steps are unaffected', () => {
    const chart = newChart();
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    InitSequence.of(web).add(new WaitForService(chart, 'wait', { targets: [WaitTarget.dns('db')] }));
    AppContainerHardening.restrict(web);
    const spec = podSpecOf(synthValid(chart)[0]);
    expect(spec.initContainers[0].securityContext).toMatchObject({ runAsUser: 65532, capabilities: { drop: ['ALL'] } });
    expect(spec.containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] });
  });

  describe('fails, naming the workload, the container and the value', () => {
    const restrict = (security: kplus.ContainerSecurityContextProps) => () => {
      const chart = newChart();
      AppContainerHardening.restrict(new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0', securityContext: security }] }));
    };
    test('a container the restricted level forbids', () => {
      expect(restrict({ user: 0 })).toThrow('AppContainerHardening.restrict: workload test/web: container "web" runs as user 0, which the restricted level forbids; give it a non-root securityContext.user');
      expect(restrict({ ensureNonRoot: false })).toThrow(/container "web" has securityContext.ensureNonRoot false/);
      expect(restrict({ privileged: true })).toThrow(/container "web" is privileged/);
      expect(restrict({ allowPrivilegeEscalation: true })).toThrow(/container "web" allows privilege escalation/);
      expect(restrict({ capabilities: { add: [kplus.Capability.SYS_ADMIN, kplus.Capability.NET_BIND_SERVICE] } }))
        .toThrow(/container "web" adds capabilities SYS_ADMIN, which the restricted level forbids; add none but NET_BIND_SERVICE/);
    });

    test('something that is not a workload', () => {
      expect(() => AppContainerHardening.restrict({} as any)).toThrow(/AppContainerHardening.restrict: .* is not a pod-bearing workload/);
    });

    test('an app container added after restrict()', () => {
      const chart = newChart();
      const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
      AppContainerHardening.restrict(web);
      web.addContainer({ name: 'late', image: 'late:1.0' });
      expect(() => Testing.synth(chart)).toThrow(
        /\[test\/web\] app container "late" is not hardened: it was added after AppContainerHardening.restrict\(\); call restrict\(\) once every container is added/);
    });

    test('a container someone else inserted before the hardened one: synthesis fails instead of hardening it', () => {
      const chart = newChart();
      const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
      ApiObject.of(web).addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0', { name: 'intruder', image: 'intruder:1.0' }));
      AppContainerHardening.restrict(web);
      expect(() => Testing.synth(chart)).toThrow(/Test operation failed[\s\S]*"path": "\/spec\/template\/spec\/containers\/0\/name",\s*"value": "web"/);
    });
  });
});
