import { ApiObject, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { InitSequence, InitStep, KubernetesTarget, SharedVolume, StepSecurity } from '../src';
import { everyWorkload, newChart, RESTRICTED_STEP_CONTEXT } from './util/fixtures';
import { DESIGN_LINE, PLUS_LINE } from './util/line';
import { initContainersOf, podSpecOf, synthValid } from './util/manifest';
import { WorkloadInit } from '../src/private/workload-init';

const IMAGE = 'busybox:1.36.1';

describe('InitStep', () => {
  test('renders a restricted, pinned init container with small resources', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'Say Hello', { image: IMAGE, command: ['echo', 'hi'] }));
    const [c] = initContainersOf(synthValid(chart));
    expect(c.name).toBe('say-hello');
    expect(c.image).toBe(IMAGE);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '64Mi' } });
    expect(c.securityContext).toEqual(RESTRICTED_STEP_CONTEXT);
    expect(c.startupProbe).toBeUndefined();
    expect(c.ports).toBeUndefined();
  });

  test('user resources override defaults field by field; a memory limit is always set', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'big', {
      image: IMAGE,
      resources: { cpu: { request: kplus.Cpu.millis(200), limit: kplus.Cpu.millis(400) }, memory: { request: Size.mebibytes(100) } },
    }));
    const [c] = initContainersOf(synthValid(chart));
    expect(c.resources).toEqual({ requests: { cpu: '200m', memory: '100Mi' }, limits: { cpu: '400m', memory: '64Mi' } });
  });

  test('explicit name, env from values and secrets, workingDir', () => {
    const chart = newChart();
    const secret = new kplus.Secret(chart, 'db', { stringData: { password: 'x' } });
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'step', {
      name: 'custom-name',
      image: IMAGE,
      workingDir: '/work',
      env: {
        MODE: kplus.EnvValue.fromValue('strict'),
        DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: 'password' }),
      },
    }));
    const [c] = initContainersOf(synthValid(chart));
    expect(c.name).toBe('custom-name');
    expect(c.workingDir).toBe('/work');
    expect(c.env).toEqual([
      { name: 'MODE', value: 'strict' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { key: 'password', name: expect.any(String) } } },
    ]);
  });

  test('exposes what it is for plans and subclasses', () => {
    const chart = newChart();
    const data = new SharedVolume(chart, 'data');
    const step = new InitStep(chart, 'step', {
      image: IMAGE,
      timeout: Duration.seconds(30),
      description: 'does a thing',
      writes: [{ volume: data, path: '/data' }],
    });
    expect(step.timeout?.toSeconds()).toBe(30);
    expect(step.description).toBe('does a thing');
    expect(step.writes.map(w => w.volume.name)).toEqual(['data']);
    expect(step.security.isRestricted).toBe(true);
  });

  test('can be subclassed into a reusable pattern', () => {
    class Hello extends InitStep {
      constructor(scope: any, id: string, greeting: string) {
        super(scope, id, { image: IMAGE, command: ['echo'], args: [greeting] });
      }
    }
    const chart = newChart();
    const job = new kplus.Job(chart, 'job', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(job).add(new Hello(chart, 'hello', 'hi'));
    expect(initContainersOf(synthValid(chart))[0]).toMatchObject({ name: 'hello', args: ['hi'] });
  });

  describe('bad input fails at synth time, naming the construct and the value', () => {
    const make = (props: any, id = 'bad') => () => new InitStep(newChart(), id, { image: IMAGE, ...props });

    test('empty image', () => {
      expect(make({ image: '' })).toThrow('InitStep test/bad: image is empty');
    });
    test('untagged image', () => {
      expect(make({ image: 'busybox' })).toThrow('InitStep test/bad: image "busybox" has no tag');
    });
    test(':latest image', () => {
      expect(make({ image: 'busybox:latest' })).toThrow('InitStep test/bad: image "busybox:latest" uses the "latest" tag');
    });
    test('invalid explicit name', () => {
      expect(make({ name: 'Bad_Name' })).toThrow('InitStep test/bad: container name "Bad_Name" is not a valid DNS-1123 label');
    });
    test('id with nothing usable for a name', () => {
      expect(make({}, '___')).toThrow(/container name "" is not a valid DNS-1123 label/);
    });
    test('relative mount path', () => {
      const chart = newChart();
      const v = new SharedVolume(chart, 'v');
      expect(() => new InitStep(chart, 's', { image: IMAGE, writes: [{ volume: v, path: 'data' }] }))
        .toThrow('InitStep test/s: mount path "data" must be absolute');
    });
    test('overlapping mount paths', () => {
      const chart = newChart();
      const a = new SharedVolume(chart, 'a');
      const b = new SharedVolume(chart, 'b');
      expect(() => new InitStep(chart, 's', {
        image: IMAGE,
        writes: [{ volume: a, path: '/data' }],
        reads: [{ volume: b, path: '/data/in' }],
      })).toThrow('InitStep test/s: mount paths "/data" and "/data/in" overlap');
    });
    test('a volume both read and written', () => {
      const chart = newChart();
      const a = new SharedVolume(chart, 'a');
      expect(() => new InitStep(chart, 's', {
        image: IMAGE, writes: [{ volume: a, path: '/w' }], reads: [{ volume: a, path: '/r' }],
      })).toThrow('volume "a" is both read and written');
    });
    test('a literal secret in env', () => {
      expect(make({ env: { DB_PASSWORD: kplus.EnvValue.fromValue('hunter2') } }))
        .toThrow('InitStep test/bad: environment variable DB_PASSWORD has a literal value; secrets must come from a Secret');
    });
    test('an env name a shell cannot read', () => {
      expect(make({ env: { 'MY-VAR': kplus.EnvValue.fromValue('x') } })).toThrow('environment variable name "MY-VAR" is not a valid identifier');
    });
    test('a relative workingDir', () => {
      expect(make({ workingDir: 'tmp' })).toThrow('workingDir "tmp" must be absolute');
    });
    test('a non-SharedVolume in writes', () => {
      expect(make({ writes: [{ volume: {} as any, path: '/x' }] })).toThrow(/the volume at "\/x" in reads\/writes must be a SharedVolume; got/);
    });
  });
});

describe('StepSecurity', () => {
  test('restricted refuses uid 0', () => {
    expect(() => StepSecurity.restricted({ user: 0 })).toThrow(/user 0 is not a non-root uid/);
  });

  test('optOut needs a reason', () => {
    expect(() => StepSecurity.optOut({ reason: ' ' })).toThrow('StepSecurity.optOut: a reason is required');
  });

  test('optOut runs as root with only the named capabilities and records the reason on the pod', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'chown', {
      image: IMAGE,
      security: StepSecurity.optOut({ reason: 'chown the data volume', addCapabilities: [kplus.Capability.CHOWN, kplus.Capability.FOWNER] }),
    }));
    const objects = synthValid(chart, { restricted: false });
    const [c] = initContainersOf(objects);
    expect(c.securityContext).toMatchObject({
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(objects[0].metadata.annotations).toEqual({
      'chown.waivers.cdk8s-init.io/run-as-non-root': 'chown the data volume',
      'chown.waivers.cdk8s-init.io/capabilities.CHOWN': 'chown the data volume',
      'chown.waivers.cdk8s-init.io/capabilities.FOWNER': 'chown the data volume',
    });
  });
});

describe('a native sidecar step', () => {
  /** A chart whose app targets Kubernetes 1.30, where native sidecars are on by default. */
  function sidecarChart(): Chart {
    const app = Testing.app();
    new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
    return new Chart(app, 'test');
  }

  function proxy(chart: Chart, socket: SharedVolume): InitStep {
    return new InitStep(chart, 'proxy', {
      image: 'proxy:2.14.0',
      args: ['--port', '5432'],
      writes: [{ volume: socket, path: '/run/proxy' }],
      sidecar: {
        startupProbe: kplus.Probe.fromTcpSocket({ port: 5432, periodSeconds: Duration.seconds(1), failureThreshold: 30 }),
        readinessProbe: kplus.Probe.fromCommand(['test', '-S', '/run/proxy/socket']),
        livenessProbe: kplus.Probe.fromHttpGet('/liveness', { port: 9090 }),
      },
    });
  }

  // The same object on every cdk8s-plus line: 27 renders it through the line module's patches, 28+ through its own API.
  const RENDERED_PROXY = {
    name: 'proxy',
    image: 'proxy:2.14.0',
    imagePullPolicy: 'IfNotPresent',
    args: ['--port', '5432'],
    restartPolicy: 'Always',
    startupProbe: { tcpSocket: { port: 5432 }, periodSeconds: 1, failureThreshold: 30 },
    readinessProbe: { exec: { command: ['test', '-S', '/run/proxy/socket'] }, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/liveness', port: 9090, scheme: 'HTTP' }, failureThreshold: 3 },
    resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '64Mi' } },
    securityContext: RESTRICTED_STEP_CONTEXT,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [{ name: 'socket', mountPath: '/run/proxy', readOnly: false }],
  };

  test.each(['Pod', 'Deployment', 'StatefulSet', 'Job', 'CronJob', 'DaemonSet'])(
    `%s on cdk8s-plus-${PLUS_LINE}: restartPolicy Always and its probes, in its place in the sequence, restricted like any step`, kind => {
      const chart = sidecarChart();
      const workload = everyWorkload(chart)[kind];
      const socket = new SharedVolume(chart, 'socket');
      InitSequence.of(workload).add(
        new InitStep(chart, 'before', { image: IMAGE, command: ['true'] }),
        proxy(chart, socket),
        new InitStep(chart, 'after', { image: IMAGE, command: ['true'], reads: [{ volume: socket, path: '/run/proxy' }] }),
      );
      socket.mount(workload.containers[0], '/run/proxy');
      const objects = synthValid(chart);
      const spec = podSpecOf(objects.find(o => o.kind === kind));
      expect(spec.initContainers.map((c: any) => c.name)).toEqual(['before', 'proxy', 'after']);
      expect(spec.initContainers[1]).toEqual(RENDERED_PROXY);
      for (const plain of [spec.initContainers[0], spec.initContainers[2]]) {
        expect(plain.restartPolicy).toBeUndefined();
        expect(plain.startupProbe).toBeUndefined();
      }
      expect(spec.volumes).toEqual([{ name: 'socket', emptyDir: {} }]);
    });

  test('without probes: only restartPolicy is added', () => {
    const chart = sidecarChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'agent', { image: 'agent:1.2.3', sidecar: {} }));
    const [agent] = initContainersOf(synthValid(chart));
    expect(agent.restartPolicy).toBe('Always');
    expect(Object.keys(agent).filter(k => k.endsWith('Probe'))).toEqual([]);
  });

  test('a sidecar has no timeout: its start is bounded by its startupProbe', () => {
    expect(() => new InitStep(sidecarChart(), 'proxy', { image: 'proxy:2.14.0', timeout: Duration.minutes(1), sidecar: {} }))
      .toThrow('InitStep test/proxy: a sidecar runs beside the app until the pod stops, so it has no timeout; bound its start with a startupProbe');
  });

  test('a sidecar cannot be a main container', () => {
    const chart = sidecarChart();
    const job = new kplus.Job(chart, 'job', { containers: [{ name: 'app', image: 'app:1.0' }] });
    expect(() => WorkloadInit.of(job).applyAsMain(new InitStep(chart, 'proxy', { image: 'proxy:2.14.0', sidecar: {} })))
      .toThrow('InitStep test/proxy: a sidecar is an init container with restartPolicy: Always; add it to the init sequence of workload test/job, not as a main container');
  });

  // Why cdk8s-plus-27 needs the line module's workaround: a JSON patch on the ApiObject is applied before
  // its L1 drops the fields outside the 1.27 schema. Later lines keep the field.
  test(`cdk8s-plus-${PLUS_LINE}: a JSON patch adding restartPolicy to an init container ${PLUS_LINE === DESIGN_LINE ? 'is dropped' : 'is kept'}`, () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }], initContainers: [{ name: 'init', image: IMAGE }] });
    ApiObject.of(pod).addJsonPatch(JsonPatch.add('/spec/initContainers/0/restartPolicy', 'Always'));
    const [init] = Testing.synth(chart).find(o => o.kind === 'Pod').spec.initContainers;
    expect(init.restartPolicy).toBe(PLUS_LINE === DESIGN_LINE ? undefined : 'Always');
  });
});
