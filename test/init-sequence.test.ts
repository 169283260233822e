import { Size, Testing, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { InitSequence, InitStep, SharedVolume } from '../src';
import { everyWorkload, newChart } from './util/fixtures';
import { initContainersOf, podSpecOf, synthValid } from './util/manifest';

const IMAGE = 'busybox:1.36.1';

describe('InitSequence', () => {
  test.each(['Pod', 'Deployment', 'StatefulSet', 'Job', 'CronJob', 'DaemonSet'])('composes into a %s with shared volumes wired', kind => {
    const chart = newChart();
    const workload = everyWorkload(chart)[kind];
    const data = new SharedVolume(chart, 'data');
    InitSequence.of(workload).add(
      new InitStep(chart, 'write', { image: IMAGE, writes: [{ volume: data, path: '/out' }] }),
      new InitStep(chart, 'check', { image: IMAGE, reads: [{ volume: data, path: '/in' }] }),
    );
    data.mount(workload.containers[0], '/app/data');

    const objects = synthValid(chart);
    const spec = podSpecOf(objects.find(o => o.kind === kind));
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['write', 'check']);
    expect(spec.initContainers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/out', readOnly: false }]);
    expect(spec.initContainers[1].volumeMounts).toEqual([{ name: 'data', mountPath: '/in', readOnly: true }]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/app/data', readOnly: true }]);
    expect(spec.volumes).toEqual([{ name: 'data', emptyDir: {} }]);
  });

  test('order in code is order in the manifest, across add() calls and sequences', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    const step = (id: string) => new InitStep(chart, id, { image: IMAGE });
    const shared = new InitSequence(chart, 'shared', { steps: [step('a'), step('b')] });
    InitSequence.of(pod).add(step('first'));
    shared.applyTo(pod);
    InitSequence.of(pod).add(step('last'));
    shared.add(step('c'));
    expect(initContainersOf(synthValid(chart)).map(c => c.name)).toEqual(['first', 'a', 'b', 'last', 'c']);
    expect(InitSequence.of(pod).steps.map(s => s.name)).toEqual(['first', 'last']);
  });

  test('one sequence applied to several workloads gives each its own containers and volumes', () => {
    const chart = newChart();
    const data = new SharedVolume(chart, 'data', { medium: kplus.EmptyDirMedium.MEMORY });
    const team = new InitSequence(chart, 'team', {
      steps: [new InitStep(chart, 'prepare', { image: IMAGE, writes: [{ volume: data, path: '/data' }] })],
    });
    const a = new kplus.Deployment(chart, 'a', { containers: [{ name: 'app', image: 'app:1.0' }] });
    const b = new kplus.Job(chart, 'b', { containers: [{ name: 'app', image: 'app:1.0' }] });
    team.applyTo(a).applyTo(b);
    expect(team.workloads).toEqual([a, b]);
    const objects = synthValid(chart);
    for (const kind of ['Deployment', 'Job']) {
      const spec = podSpecOf(objects.find(o => o.kind === kind));
      expect(spec.initContainers.map((c: any) => c.name)).toEqual(['prepare']);
      expect(spec.volumes).toEqual([{ name: 'data', emptyDir: { medium: 'Memory' } }]);
    }
  });

  test('of() returns the same sequence for a workload', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    expect(InitSequence.of(pod)).toBe(InitSequence.of(pod));
  });

  test('existing cdk8s-plus volumes are pre-populated and shared by name', () => {
    const chart = newChart();
    const cm = new kplus.ConfigMap(chart, 'cm', { data: { 'a.conf': 'x' } });
    const config = new SharedVolume(chart, 'config', { volume: kplus.Volume.fromConfigMap(chart, 'cmv', cm, { name: 'config' }) });
    expect(config.prePopulated).toBe(true);
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'lint', { image: IMAGE, reads: [{ volume: config, path: '/config' }] }));
    const spec = podSpecOf(synthValid(chart).find(o => o.kind === 'Pod'));
    expect(spec.volumes).toEqual([{ name: 'config', configMap: { name: expect.any(String) } }]);
  });

  test('synthesizing twice gives byte-identical YAML', () => {
    const build = () => {
      const chart = newChart();
      const data = new SharedVolume(chart, 'data');
      const d = new kplus.Deployment(chart, 'd', { containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(d).add(
        new InitStep(chart, 'w', { image: IMAGE, writes: [{ volume: data, path: '/d' }] }),
        new InitStep(chart, 'r', { image: IMAGE, reads: [{ volume: data, path: '/d' }] }),
      );
      data.mount(d.containers[0], '/data');
      return Yaml.stringify(...Testing.synth(chart));
    };
    expect(build()).toEqual(build());
  });

  describe('bad input', () => {
    const setup = () => {
      const chart = newChart();
      const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
      return { chart, pod, step: (id: string, props: any = {}) => new InitStep(chart, id, { image: IMAGE, ...props }) };
    };

    test('the same step added twice to a sequence', () => {
      const { pod, step } = setup();
      const s = step('s');
      expect(() => InitSequence.of(pod).add(s, s)).toThrow('InitSequence test/pod/InitSequence: step test/s is added twice');
    });

    test('the same step added to one workload through two sequences', () => {
      const { chart, pod, step } = setup();
      const s = step('s');
      InitSequence.of(pod).add(s);
      expect(() => new InitSequence(chart, 'other', { steps: [s] }).applyTo(pod))
        .toThrow('InitStep test/s: this step is already in the init sequence of workload test/pod');
    });

    test('applying a sequence twice to one workload', () => {
      const { chart, pod } = setup();
      const seq = new InitSequence(chart, 'seq').applyTo(pod);
      expect(() => seq.applyTo(pod)).toThrow('InitSequence test/seq: already applied to test/pod');
    });

    test('duplicate step names', () => {
      const { chart, pod } = setup();
      const s1 = new InitStep(chart, 'fetch', { image: IMAGE });
      const s2 = new InitStep(new InitSequence(chart, 'team'), 'fetch', { image: IMAGE });
      InitSequence.of(pod).add(s1);
      expect(() => InitSequence.of(pod).add(s2)).toThrow('InitStep test/team/fetch: container name "fetch" is already used in workload test/pod');
    });

    test('a step named like a main container', () => {
      const { pod, step } = setup();
      expect(() => InitSequence.of(pod).add(step('app'))).toThrow('container name "app" is already used');
    });

    test('a main container added later with a step name', () => {
      const { chart, pod, step } = setup();
      InitSequence.of(pod).add(step('migrate'));
      pod.addContainer({ name: 'migrate', image: 'app:1.0' });
      expect(() => Testing.synth(chart)).toThrow(/\[test\/pod\] container name "migrate" is used twice/);
    });

    test('two volumes with one name', () => {
      const { chart, pod, step } = setup();
      const a = new SharedVolume(chart, 'a', { name: 'data' });
      const b = new SharedVolume(chart, 'b', { name: 'data' });
      InitSequence.of(pod).add(step('w1', { writes: [{ volume: a, path: '/a' }] }));
      expect(() => InitSequence.of(pod).add(step('w2', { writes: [{ volume: b, path: '/b' }] })))
        .toThrow('InitStep test/w2: volume name "data" is used by two shared volumes (test/a and test/b) in workload test/pod');
    });

    test('a shared volume named like a hand-written volume', () => {
      const { chart, pod, step } = setup();
      pod.addVolume(kplus.Volume.fromEmptyDir(chart, 'own', 'data'));
      InitSequence.of(pod).add(step('w', { writes: [{ volume: new SharedVolume(chart, 'data'), path: '/a' }] }));
      expect(() => Testing.synth(chart)).toThrow(/two different volumes are named "data"/);
    });

    test('a step reads a volume no earlier step writes', () => {
      const { chart, pod, step } = setup();
      const data = new SharedVolume(chart, 'data');
      expect(() => InitSequence.of(pod).add(step('r', { reads: [{ volume: data, path: '/d' }] }), step('w', { writes: [{ volume: data, path: '/d' }] })))
        .toThrow('InitStep test/r: reads volume "data" but no earlier step in workload test/pod writes it');
    });

    test('a main container reads a volume no step writes', () => {
      const { chart, pod } = setup();
      new SharedVolume(chart, 'data').mount(pod.containers[0], '/data');
      expect(() => Testing.synth(chart)).toThrow(/\[test\/data\] container "app" reads shared volume "data" but no init step of its workload writes it/);
    });

    test('a main container reads a volume only another workload writes', () => {
      const { chart, pod, step } = setup();
      const data = new SharedVolume(chart, 'data');
      const other = new kplus.Pod(chart, 'other', { containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(other).add(step('w', { writes: [{ volume: data, path: '/d' }] }));
      data.mount(other.containers[0], '/data');
      data.mount(pod.containers[0], '/data');
      expect(() => Testing.synth(chart)).toThrow(/reads shared volume "data" but no init step of its workload writes it/);
    });

    test('overlapping mounts in a main container', () => {
      const { chart, pod, step } = setup();
      const a = new SharedVolume(chart, 'a');
      const b = new SharedVolume(chart, 'b');
      InitSequence.of(pod).add(step('w', { writes: [{ volume: a, path: '/a' }, { volume: b, path: '/b' }] }));
      a.mount(pod.containers[0], '/data');
      b.mount(pod.containers[0], '/data/b');
      expect(() => Testing.synth(chart)).toThrow(/container "app" has overlapping mounts at "\/data" and "\/data\/b"/);
    });

    test('a relative main-container mount path', () => {
      const { chart, pod } = setup();
      expect(() => new SharedVolume(chart, 'a').mount(pod.containers[0], 'data'))
        .toThrow('SharedVolume test/a in container "app": mount path "data" must be absolute');
    });

    test.each([
      ['a Service', (chart: any) => new kplus.Service(chart, 'svc', { ports: [{ port: 80 }] }), '"test/svc" (Service)'],
      ['a ConfigMap', (chart: any) => new kplus.ConfigMap(chart, 'cm'), '"test/cm" (ConfigMap)'],
      ['undefined', () => undefined, 'undefined'],
    ])('attaching to %s', (_name, make, what) => {
      const chart = newChart();
      const target = make(chart) as any;
      expect(() => InitSequence.of(target)).toThrow(`InitSequence.of: ${what} is not a pod-bearing workload`);
      expect(() => new InitSequence(chart, 'seq').applyTo(target)).toThrow(/is not a pod-bearing workload/);
    });

    test('adding something that is not a step', () => {
      const chart = newChart();
      expect(() => new InitSequence(chart, 'seq').add({} as any)).toThrow('InitSequence test/seq: add() takes InitStep objects');
    });
  });
});

describe('SharedVolume', () => {
  test('name derives from the id; emptyDir options render', () => {
    const chart = newChart();
    const v = new SharedVolume(chart, 'Shared Data', { sizeLimit: Size.mebibytes(16), medium: kplus.EmptyDirMedium.MEMORY });
    expect(v.name).toBe('shared-data');
    expect(v.prePopulated).toBe(false);
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'w', { image: IMAGE, writes: [{ volume: v, path: '/v' }] }));
    expect(podSpecOf(synthValid(chart)[0]).volumes).toEqual([{ name: 'shared-data', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]);
  });

  test('rejects an invalid explicit name', () => {
    expect(() => new SharedVolume(newChart(), 'v', { name: 'Bad_Name' })).toThrow('SharedVolume test/v: volume name "Bad_Name" is not a valid DNS-1123 label');
  });

  test('rejects emptyDir options on an existing volume', () => {
    const chart = newChart();
    const volume = kplus.Volume.fromEmptyDir(chart, 'own', 'own');
    expect(() => new SharedVolume(chart, 'v', { volume, medium: kplus.EmptyDirMedium.MEMORY }))
      .toThrow('SharedVolume test/v: name, medium and sizeLimit apply only to a new emptyDir, not to an existing volume ("own")');
  });

  test('mount can be read-write and use a subPath', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    const v = new SharedVolume(chart, 'v');
    InitSequence.of(pod).add(new InitStep(chart, 'w', { image: IMAGE, writes: [{ volume: v, path: '/v' }] }));
    v.mount(pod.containers[0], '/cache', { readOnly: false, subPath: 'cache' });
    const spec = podSpecOf(synthValid(chart)[0]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'v', mountPath: '/cache', readOnly: false, subPath: 'cache' }]);
  });
});
