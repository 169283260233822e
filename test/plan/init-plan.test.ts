import { ApiObject, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  ConfigFetchInit, ConfigSource, DatabaseConnection, InitPlan, InitSequence, InitStep, KubernetesTarget, MigrationJob,
  MigrationSource, MigrationTool, SharedVolume, VolumePermissionsInit, WaitForService, WaitTarget,
} from '../../src';
import { newChart } from '../util/fixtures';
import { DESIGN_LINE, PLUS_LINE } from '../util/line';

function shopChart() {
  const chart = newChart();
  const config = new SharedVolume(chart, 'config');
  const data = new SharedVolume(chart, 'data');
  const web = new kplus.Deployment(chart, 'web', {
    metadata: { name: 'web', namespace: 'shop' },
    containers: [
      { name: 'web', image: 'web:1.0', resources: { cpu: { request: kplus.Cpu.millis(300), limit: kplus.Cpu.units(1) }, memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) } } },
      { name: 'proxy', image: 'proxy:1.0', resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) } } },
    ],
  });
  config.mount(web.containers[0], '/etc/web');
  data.mount(web.containers[0], '/data', { readOnly: false });
  InitSequence.of(web).add(
    new WaitForService(chart, 'wait-db', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })], timeout: Duration.minutes(2) }),
    new ConfigFetchInit(chart, 'fetch-config', {
      volume: config,
      source: ConfigSource.http({ files: [{ url: 'https://cfg.example.com/web.yaml', path: 'web.yaml' }] }),
      timeout: Duration.seconds(90),
      resources: { cpu: { request: kplus.Cpu.millis(500) }, memory: { request: Size.mebibytes(600), limit: Size.mebibytes(1024) } },
    }),
    new VolumePermissionsInit(chart, 'own-data', { volume: data, user: 1000, group: 1000 }),
  );
  return { chart, web };
}

describe('InitPlan', () => {
  test('lists the steps in order with what they do, read and write', () => {
    const plan = InitPlan.of(shopChart().web);
    expect(plan.workload).toBe('Deployment shop/web');
    expect(plan.steps.map(s => [s.position, s.name, s.image, s.reads, s.writes, s.timeoutSeconds, s.restricted])).toEqual([
      [1, 'wait-db', 'busybox:1.36.1', [], [], 120, true],
      [2, 'fetch-config', 'curlimages/curl:8.11.1', [], ['config'], 90, true],
      [3, 'own-data', 'busybox:1.36.1', [], ['data'], undefined, false],
    ]);
    expect(plan.steps[0].description).toBe('waits for db:5432');
    expect(plan.steps[1].description).toBe('fetches https://cfg.example.com/web.yaml into config');
    expect(plan.appContainers).toEqual(['web', 'proxy']);
  });

  test('worst-case start delay is the sum of step timeouts, or unbounded naming the steps without one', () => {
    const { chart, web } = shopChart();
    expect(InitPlan.of(web).worstCaseStartDelay).toBeUndefined();
    expect(InitPlan.of(web).unboundedSteps).toEqual(['own-data']);
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(
      new WaitForService(chart, 'w1', { targets: [WaitTarget.dns('a')], timeout: Duration.seconds(30) }),
      new InitStep(chart, 'w2', { image: 'busybox:1.36.1', timeout: Duration.minutes(1) }),
    );
    expect(InitPlan.of(pod).worstCaseStartDelay?.toSeconds()).toBe(90);
  });

  test('effective resources as Kubernetes computes them: max over init containers vs sum of app containers', () => {
    const plan = InitPlan.of(shopChart().web);
    expect(plan.initResources).toEqual({ cpuRequestMillis: 500, cpuLimitMillis: undefined, memoryRequestMebibytes: 600, memoryLimitMebibytes: 1024 });
    expect(plan.appResources).toEqual({ cpuRequestMillis: 400, cpuLimitMillis: 1200, memoryRequestMebibytes: 320, memoryLimitMebibytes: 640 });
    // The fetch step's 500m/600Mi outweighs the app's 400m/320Mi: the init phase sets the pod's request.
    expect(plan.podResources).toEqual({ cpuRequestMillis: 500, cpuLimitMillis: undefined, memoryRequestMebibytes: 600, memoryLimitMebibytes: 1024 });
  });

  test('hand-written init containers are part of the plan: named as such, without their script, security as synthesized', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    pod.addInitContainer({ name: 'legacy', image: 'busybox:1.36.1', command: ['/bin/sh', '-c', 'mysql -pHunter2 < /schema.sql'] });
    InitSequence.of(pod).add(new WaitForService(chart, 'wait', { targets: [WaitTarget.dns('db')] }));
    const plan = InitPlan.of(pod);
    expect(plan.steps.map(s => [s.name, s.description, s.handWritten, s.restricted, s.unmetRules, s.optOutReason, s.timeoutSeconds])).toEqual([
      ['legacy', 'hand-written init container; runs sh', true, false, ['seccomp', 'capabilities'], undefined, undefined],
      ['wait', 'waits for dns:db', false, true, [], undefined, 300],
    ]);
    expect(plan.toMarkdown()).toContain('| 1 | `legacy` | `busybox:1.36.1` | hand-written init container; runs sh | – | – | unbounded | not restricted: seccomp, capabilities |');
  });

  test('a hand-written init container hardened by hand is restricted; one with a recorded waiver is an opt-out with its reason', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    pod.addInitContainer({ name: 'hardened', image: 'busybox:1.36.1' });
    pod.addInitContainer({ name: 'waived', image: 'busybox:1.36.1' });
    ApiObject.of(pod).addJsonPatch(
      JsonPatch.add('/spec/initContainers/0/securityContext/capabilities', { drop: ['ALL'] }),
      JsonPatch.add('/spec/initContainers/0/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
    );
    pod.podMetadata.addAnnotation('waived.waivers.cdk8s-init.io/seccomp', 'vendor image');
    pod.podMetadata.addAnnotation('waived.waivers.cdk8s-init.io/capabilities', 'vendor image');
    expect(InitPlan.of(pod).steps.map(s => [s.name, s.restricted, s.optOutReason])).toEqual([
      ['hardened', true, undefined],
      ['waived', false, 'vendor image'],
    ]);
  });

  test('a pod without init containers has the app containers\' resources, limits included', () => {
    const { chart } = shopChart();
    const job = new kplus.Job(chart, 'job', {
      containers: [{ name: 'j', image: 'j:1.0', resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) } } }],
    });
    const plan = InitPlan.of(job);
    expect(plan.podResources).toEqual({ cpuRequestMillis: 100, cpuLimitMillis: 200, memoryRequestMebibytes: 64, memoryLimitMebibytes: 128 });
    const md = plan.toMarkdown();
    expect(md).toContain('| init (max) | – | – | – | – |');
    expect(md).toContain('| **pod** | 100m | 200m | 64Mi | 128Mi |');
  });

  test('Markdown: a table per workload, the delay and the resources', () => {
    const md = InitPlan.of(shopChart().web).toMarkdown();
    expect(md).toContain('### Deployment shop/web');
    expect(md).toContain('| # | step | image | does | reads | writes | timeout | security |\n|---|---|---|---|---|---|---|---|\n');
    expect(md).toContain('| 1 | `wait-db` | `busybox:1.36.1` | waits for db:5432 | – | – | 2m | restricted |');
    expect(md).toContain('| 2 | `fetch-config` | `curlimages/curl:8.11.1` | fetches https://cfg.example.com/web.yaml into config | – | `config` | 1m 30s | restricted |');
    expect(md).toContain('| 3 | `own-data` | `busybox:1.36.1` | chowns volume data to 1000:1000 | – | `data` | unbounded | ' +
      'opt-out: chown -R 1000:1000 of volume data needs root with CHOWN, FOWNER, DAC_READ_SEARCH |');
    expect(md).toContain('Then the app starts: `web`, `proxy`, mounting `config`, `data`.');
    expect(md).toContain('**Worst-case start delay:** unbounded (no timeout: `own-data`)');
    expect(md).toContain('| **pod** | 500m | none | 600Mi | 1024Mi |');
  });

  test('Markdown: every row of the steps table has as many cells as its header, opt-outs included', () => {
    const md = InitPlan.of(shopChart().web).toMarkdown();
    // Cells are separated by pipes that are not escaped.
    const cells = (line: string) => line.replace(/\\\|/g, '').split('|').length - 2;
    const table = md.split('\n').filter(l => l.startsWith('| # |') || /^\| \d+ \|/.test(l));
    expect(table).toHaveLength(4);
    expect(table.map(cells)).toEqual([8, 8, 8, 8]);
  });

  test('Mermaid: steps in order into the app, and the volume flow', () => {
    expect(InitPlan.of(shopChart().web).toMermaid().split('\n')).toEqual([
      'flowchart LR',
      '  s1["1. wait-db<br/>busybox:1.36.1<br/>waits for db:5432"]',
      '  s2["2. fetch-config<br/>curlimages/curl:8.11.1<br/>fetches https://cfg.example.com/web.yaml into config"]',
      '  s3["3. own-data<br/>busybox:1.36.1<br/>chowns volume data to 1000:1000"]',
      '  app(["app: web, proxy"])',
      '  s1 --> s2 --> s3 --> app',
      '  v_config[("config")]',
      '  v_data[("data")]',
      '  s2 -- writes --> v_config',
      '  s3 -- writes --> v_data',
      '  v_config -. reads .-> app',
      '  v_data -. reads .-> app',
      '',
    ]);
  });

  test('forScope finds every workload, in path order', () => {
    const { chart } = shopChart();
    new kplus.Job(chart, 'a-job', { containers: [{ name: 'j', image: 'j:1.0' }] });
    expect(InitPlan.forScope(chart).map(p => p.workload.split(' ')[0])).toEqual(['Job', 'Deployment']);
  });
});

/** A chart whose app targets Kubernetes 1.30: native sidecars need a declared target. */
function sidecarChart(): Chart {
  const app = Testing.app();
  new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
  return new Chart(app, 'test');
}

/**
 * Edits the workload's pod spec as rendered, after cdk8s-plus's L1 filter (the
 * way the library's own model patches the manifest). On cdk8s-plus-27 this is
 * the only way to get fields outside the 1.27 schema (a pod-level
 * spec.resources, a hand-written sidecar's restartPolicy) or quantities cdk8s
 * would not write ("0.5", "128M") into the JSON the plan reads: it stands for a
 * manifest another tool patched, not for something the library writes.
 */
function editRendered(workload: kplus.AbstractPod, edit: (spec: any) => void): void {
  const obj = ApiObject.of(workload);
  const toJson = obj.toJson.bind(obj);
  obj.toJson = () => {
    const json = toJson();
    edit(json.kind === 'Pod' ? json.spec : json.spec.template.spec);
    return json;
  };
}

const cpuOnly = (millis: number): kplus.ContainerResources => ({ cpu: { request: kplus.Cpu.millis(millis) } });

describe('InitPlan with native sidecars', () => {
  /** wait-db (30s) ; proxy (sidecar, startupProbe 30 × 1s) ; agent (sidecar, no probe) ; migrate (2m); app web. */
  function proxyChart() {
    const chart = sidecarChart();
    const socket = new SharedVolume(chart, 'socket');
    const web = new kplus.Deployment(chart, 'web', {
      metadata: { name: 'web' },
      containers: [{ name: 'web', image: 'web:1.0', resources: { cpu: { request: kplus.Cpu.millis(200), limit: kplus.Cpu.millis(500) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) } } }],
    });
    socket.mount(web.containers[0], '/run/proxy');
    InitSequence.of(web).add(
      new WaitForService(chart, 'wait-db', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })], timeout: Duration.seconds(30) }),
      new InitStep(chart, 'proxy', {
        image: 'proxy:2.14.0',
        description: 'proxies db:5432 to a socket',
        writes: [{ volume: socket, path: '/run/proxy' }],
        sidecar: {
          startupProbe: kplus.Probe.fromTcpSocket({ port: 5432, periodSeconds: Duration.seconds(1), failureThreshold: 30 }),
          readinessProbe: kplus.Probe.fromCommand(['test', '-S', '/run/proxy/socket']),
        },
      }),
      new InitStep(chart, 'agent', { image: 'agent:1.2.3', description: 'ships logs', sidecar: {} }),
      new InitStep(chart, 'migrate', {
        image: 'migrate:4.17.0', description: 'migrates the schema', reads: [{ volume: socket, path: '/run/proxy' }], timeout: Duration.minutes(2),
      }),
    );
    return { chart, web };
  }

  test('sidecars are steps in their place, marked; the start delay counts their startupProbe bounds, not "unbounded"', () => {
    const plan = InitPlan.of(proxyChart().web);
    expect(plan.steps.map(s => [s.position, s.name, s.sidecar, s.timeoutSeconds, s.startupBoundSeconds, s.restricted])).toEqual([
      [1, 'wait-db', false, 30, undefined, true],
      [2, 'proxy', true, undefined, 30, true], // initialDelay 0 + failureThreshold 30 × period 1s
      [3, 'agent', true, undefined, 0, true], // no startupProbe: started once its process is
      [4, 'migrate', false, 120, undefined, true],
    ]);
    expect(plan.unboundedSteps).toEqual([]);
    // 30 (wait-db) + 30 (proxy) + 0 (agent) + 120 (migrate) = 180s
    expect(plan.worstCaseStartDelay?.toSeconds()).toBe(180);
  });

  test('a startupProbe\'s bound uses the Kubernetes defaults for what it leaves out (period 10s, failureThreshold 3, initial delay 0)', () => {
    const chart = sidecarChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(
      // cdk8s-plus writes failureThreshold 3 and no periodSeconds: 5 + 3 × 10 = 35s
      new InitStep(chart, 'a', { image: 'a:1.0', sidecar: { startupProbe: kplus.Probe.fromCommand(['true'], { initialDelaySeconds: Duration.seconds(5) }) } }),
      // 0 + 3 × 10 = 30s
      new InitStep(chart, 'b', { image: 'b:1.0', sidecar: { startupProbe: kplus.Probe.fromCommand(['true']) } }),
    );
    const plan = InitPlan.of(pod);
    expect(plan.steps.map(s => s.startupBoundSeconds)).toEqual([35, 30]);
    expect(plan.worstCaseStartDelay?.toSeconds()).toBe(65);
  });

  test('an ordinary step without a timeout still makes the delay unbounded, beside sidecars', () => {
    const chart = sidecarChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(
      new InitStep(chart, 'agent', { image: 'agent:1.2.3', sidecar: {} }),
      new InitStep(chart, 'forever', { image: 'busybox:1.36.1' }),
    );
    const plan = InitPlan.of(pod);
    expect(plan.unboundedSteps).toEqual(['forever']);
    expect(plan.worstCaseStartDelay).toBeUndefined();
  });

  test('a hand-written init container with restartPolicy: Always in the manifest is a sidecar too', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    pod.addInitContainer({ name: 'envoy', image: 'envoy:1.31.0', command: ['/usr/local/bin/envoy'] });
    // As cdk8s-plus-28+ renders `restartPolicy: ContainerRestartPolicy.ALWAYS`, with a startupProbe (5 + 6 × 2 = 17s).
    editRendered(pod, spec => Object.assign(spec.initContainers[0], {
      restartPolicy: 'Always', startupProbe: { httpGet: { path: '/ready', port: 9901 }, initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 6 },
    }));
    const plan = InitPlan.of(pod);
    expect(plan.steps.map(s => [s.name, s.handWritten, s.sidecar, s.startupBoundSeconds, s.description])).toEqual([
      ['envoy', true, true, 17, 'hand-written init container; runs envoy'],
    ]);
    expect(plan.worstCaseStartDelay?.toSeconds()).toBe(17);
  });

  test('resources, sidecars + app dominate: A 100m ; S1 50m ; B 200m ; S2 30m ; C 10m ; app 300m + 100m', () => {
    const chart = sidecarChart();
    const pod = new kplus.Pod(chart, 'pod', {
      containers: [
        { name: 'web', image: 'web:1.0', resources: { cpu: { request: kplus.Cpu.millis(300), limit: kplus.Cpu.units(1) }, memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) } } },
        { name: 'proxy', image: 'proxy:1.0', resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) } } },
      ],
    });
    // Every step has the default memory request 32Mi and limit 64Mi, and no cpu limit.
    InitSequence.of(pod).add(
      new InitStep(chart, 'a', { image: 'a:1.0', resources: cpuOnly(100) }),
      new InitStep(chart, 's1', { image: 's1:1.0', resources: cpuOnly(50), sidecar: {} }),
      new InitStep(chart, 'b', { image: 'b:1.0', resources: cpuOnly(200) }),
      new InitStep(chart, 's2', { image: 's2:1.0', resources: cpuOnly(30), sidecar: {} }),
      new InitStep(chart, 'c', { image: 'c:1.0', resources: cpuOnly(10) }),
    );
    const plan = InitPlan.of(pod);
    expect(plan.steps.map(s => s.sidecar)).toEqual([false, true, false, true, false]);
    // cpu request, in order (running sidecar sum in brackets):
    //   A  100 + [0]      = 100
    //   S1 [0 + 50]       =  50
    //   B  200 + [50]     = 250
    //   S2 [50 + 30]      =  80
    //   C  10 + [80]      =  90   -> init peak 250
    // sidecars 50 + 30 = 80; app 300 + 100 = 400; sidecars + app = 480 -> pod max(250, 480) = 480
    // memory request (32Mi each step): A 32, S1 32, B 32 + 32 = 64, S2 64, C 32 + 64 = 96 -> peak 96
    //   sidecars 64; app 256 + 64 = 320; 64 + 320 = 384 -> pod 384
    // memory limit (64Mi each step): A 64, S1 64, B 64 + 64 = 128, S2 128, C 64 + 128 = 192 -> peak 192
    //   sidecars 128; app 512 + 128 = 640; 128 + 640 = 768 -> pod 768
    // cpu limit: no step has one -> init peak and sidecars unbounded; app 1000 + 200 = 1200; pod unbounded
    expect(plan.initResources).toEqual({ cpuRequestMillis: 250, cpuLimitMillis: undefined, memoryRequestMebibytes: 96, memoryLimitMebibytes: 192 });
    expect(plan.sidecarResources).toEqual({ cpuRequestMillis: 80, cpuLimitMillis: undefined, memoryRequestMebibytes: 64, memoryLimitMebibytes: 128 });
    expect(plan.appResources).toEqual({ cpuRequestMillis: 400, cpuLimitMillis: 1200, memoryRequestMebibytes: 320, memoryLimitMebibytes: 640 });
    expect(plan.podLevelResources).toBeUndefined();
    expect(plan.podResources).toEqual({ cpuRequestMillis: 480, cpuLimitMillis: undefined, memoryRequestMebibytes: 384, memoryLimitMebibytes: 768 });
  });

  test('resources, the init phase dominates, and only because of the sidecar started before the big step', () => {
    const chart = sidecarChart();
    const pod = new kplus.Pod(chart, 'pod', {
      containers: [{ name: 'app', image: 'app:1.0', resources: { cpu: { request: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) } } }],
    });
    InitSequence.of(pod).add(
      new InitStep(chart, 'a', { image: 'a:1.0', resources: cpuOnly(100) }),
      new InitStep(chart, 's1', { image: 's1:1.0', resources: cpuOnly(50), sidecar: {} }),
      new InitStep(chart, 'b', {
        image: 'b:1.0', resources: { cpu: { request: kplus.Cpu.millis(900) }, memory: { request: Size.mebibytes(512), limit: Size.mebibytes(1024) } },
      }),
    );
    const plan = InitPlan.of(pod);
    // cpu request: A 100; S1 [50] = 50; B 900 + [50] = 950 -> peak 950 (the largest init container alone is 900)
    //   sidecars 50 + app 200 = 250 -> pod max(950, 250) = 950
    // memory request: A 32; S1 32; B 512 + 32 = 544 -> peak 544; sidecars 32 + app 128 = 160 -> pod 544
    // memory limit: A 64; S1 64; B 1024 + 64 = 1088 -> peak 1088; sidecars 64 + app 256 = 320 -> pod 1088
    // cpu limit: unbounded everywhere (no step and not the app sets one)
    expect(plan.initResources).toEqual({ cpuRequestMillis: 950, cpuLimitMillis: undefined, memoryRequestMebibytes: 544, memoryLimitMebibytes: 1088 });
    expect(plan.sidecarResources).toEqual({ cpuRequestMillis: 50, cpuLimitMillis: undefined, memoryRequestMebibytes: 32, memoryLimitMebibytes: 64 });
    expect(plan.podResources).toEqual({ cpuRequestMillis: 950, cpuLimitMillis: undefined, memoryRequestMebibytes: 544, memoryLimitMebibytes: 1088 });
  });

  test('resources, a memory limit left out is unbounded wherever that container counts', () => {
    const chart = sidecarChart();
    // The app sets a memory request and no memory limit (nor cpu).
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0', resources: { memory: { request: Size.mebibytes(200) } } }] });
    InitSequence.of(pod).add(
      new InitStep(chart, 'a', { image: 'a:1.0' }),
      new InitStep(chart, 's', { image: 's:1.0', resources: { memory: { limit: Size.mebibytes(128) } }, sidecar: {} }),
    );
    let plan = InitPlan.of(pod);
    // memory limit: A 64; S [128] = 128 -> peak 128 (bounded); sidecars 128; app: none -> unbounded; pod max(128, 128 + ∞) = unbounded
    // memory request: A 32; S [32] = 32 -> peak 32; sidecars 32 + app 200 = 232 -> pod 232
    const memoryLimits = [plan.initResources, plan.sidecarResources, plan.appResources, plan.podResources].map(r => r.memoryLimitMebibytes);
    expect(memoryLimits)
      .toEqual([128, 128, undefined, undefined]);
    expect(plan.podResources.memoryRequestMebibytes).toBe(232);

    // A hand-written init container without a memory limit after the sidecar: its term (∞ + 128) makes the init peak unbounded too.
    pod.addInitContainer({ name: 'legacy', image: 'legacy:1.0', resources: { memory: { request: Size.mebibytes(100) } } });
    plan = InitPlan.of(pod);
    // memory request: A 32; S [32] = 32; legacy 100 + [32] = 132 -> peak 132; sidecars 32 + app 200 = 232 -> pod 232
    expect(plan.steps.map(s => s.name)).toEqual(['a', 's', 'legacy']);
    expect([plan.initResources.memoryLimitMebibytes, plan.initResources.memoryRequestMebibytes, plan.podResources.memoryRequestMebibytes])
      .toEqual([undefined, 132, 232]);
  });

  test('Markdown: sidecars marked in the steps table and named beside the app; the delay; the resources with the sidecars\' row', () => {
    const md = InitPlan.of(proxyChart().web).toMarkdown();
    expect(md).toContain('| 1 | `wait-db` | `busybox:1.36.1` | waits for db:5432 | – | – | 30s | restricted |');
    expect(md).toContain('| 2 | `proxy` | `proxy:2.14.0` | sidecar, runs beside the app: proxies db:5432 to a socket | – | `socket` | starts within 30s (startupProbe) | restricted |');
    expect(md).toContain('| 3 | `agent` | `agent:1.2.3` | sidecar, runs beside the app: ships logs | – | – | starts at once (no startupProbe) | restricted |');
    expect(md).toContain('| 4 | `migrate` | `migrate:4.17.0` | migrates the schema | `socket` | – | 2m | restricted |');
    expect(md).toContain('Then the app starts: `web`, mounting `socket`, beside sidecars `proxy`, `agent`.');
    expect(md).toContain('**Worst-case start delay:** 3m (sum of step timeouts and sidecar startup bounds)');
    // Every step: cpu request 50m, memory 32Mi / 64Mi, no cpu limit. App: 200m / 500m, 128Mi / 256Mi.
    // cpu request: wait-db 50; proxy [50]; agent [100]; migrate 50 + [100] = 150 -> peak 150; sidecars 100 + app 200 = 300 -> pod 300
    // memory request: 32; [32]; [64]; 32 + [64] = 96 -> peak 96; sidecars 64 + app 128 = 192 -> pod 192
    // memory limit: 64; [64]; [128]; 64 + [128] = 192 -> peak 192; sidecars 128 + app 256 = 384 -> pod 384
    expect(md).toContain([
      'Effective pod resources (Kubernetes, with native sidecars: the larger of the init peak (each init container plus the sidecars ' +
        'started before it) and the sidecars plus the app containers):',
      '',
      '| | cpu request | cpu limit | memory request | memory limit |',
      '|---|---|---|---|---|',
      '| init (peak) | 150m | none | 96Mi | 192Mi |',
      '| sidecars (sum) | 100m | none | 64Mi | 128Mi |',
      '| app (sum) | 200m | 500m | 128Mi | 256Mi |',
      '| **pod** | 300m | none | 192Mi | 384Mi |',
    ].join('\n'));
    const cells = (line: string) => line.replace(/\\\|/g, '').split('|').length - 2;
    expect(md.split('\n').filter(l => /^\| \d+ \|/.test(l)).map(cells)).toEqual([8, 8, 8, 8]);
  });

  test('Mermaid: the sequence passes on through a sidecar once it has started, and the sidecar runs beside the app', () => {
    expect(InitPlan.of(proxyChart().web).toMermaid().split('\n')).toEqual([
      'flowchart LR',
      '  s1["1. wait-db<br/>busybox:1.36.1<br/>waits for db:5432"]',
      '  s2["2. proxy (sidecar)<br/>proxy:2.14.0<br/>proxies db:5432 to a socket"]',
      '  s3["3. agent (sidecar)<br/>agent:1.2.3<br/>ships logs"]',
      '  s4["4. migrate<br/>migrate:4.17.0<br/>migrates the schema"]',
      '  app(["app: web"])',
      '  s1 --> s2 -- started --> s3 -- started --> s4 --> app',
      '  s2 -. runs beside .- app',
      '  s3 -. runs beside .- app',
      '  v_socket[("socket")]',
      '  s2 -- writes --> v_socket',
      '  v_socket -. reads .-> s4',
      '  v_socket -. reads .-> app',
      '',
    ]);
  });

  test('a sidecar as the last init container hands over to the app once started', () => {
    const chart = sidecarChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'agent', { image: 'agent:1.2.3', description: 'ships logs', sidecar: {} }));
    const plan = InitPlan.of(pod);
    expect(plan.toMermaid()).toContain('\n  s1 -- started --> app\n  s1 -. runs beside .- app\n');
    expect(plan.toMarkdown()).toContain('Then the app starts: `app`, beside sidecar `agent`.');
    expect(plan.toMarkdown()).toContain('**Worst-case start delay:** 0s (sum of step timeouts and sidecar startup bounds)');
  });

  test('pod-level spec.resources takes precedence for each field it sets; the others keep the formula', () => {
    const { web } = proxyChart();
    // Sets the cpu request and the memory request and limit; the cpu limit stays the formula's (unbounded).
    editRendered(web, spec => { spec.resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1.5Gi' } }; });
    const plan = InitPlan.of(web);
    expect(plan.podLevelResources).toEqual({ cpuRequestMillis: 1000, memoryRequestMebibytes: 1024, memoryLimitMebibytes: 1536 });
    // The formula's values are unchanged (300m, 192Mi, 384Mi above); the pod's are the pod-level ones where set.
    expect(plan.initResources).toEqual({ cpuRequestMillis: 150, cpuLimitMillis: undefined, memoryRequestMebibytes: 96, memoryLimitMebibytes: 192 });
    expect(plan.podResources).toEqual({ cpuRequestMillis: 1000, memoryRequestMebibytes: 1024, memoryLimitMebibytes: 1536 }); // cpu limit unbounded
    const md = plan.toMarkdown();
    expect(md).toContain('and the sidecars plus the app containers; the pod-level `spec.resources` replaces the computed value of each field it sets):');
    expect(md).toContain([
      '| app (sum) | 200m | 500m | 128Mi | 256Mi |',
      '| pod-level (spec.resources) | 1000m | – | 1024Mi | 1536Mi |',
      '| **pod** | 1000m | none | 1024Mi | 1536Mi |',
    ].join('\n'));
  });

  test('a pod-level limit bounds the pod where a container has none; a pod without sidecars keeps the plain explanation', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0', resources: { memory: { request: Size.mebibytes(100) } } }] });
    InitSequence.of(pod).add(new InitStep(chart, 'a', { image: 'a:1.0' }));
    expect(InitPlan.of(pod).podResources.memoryLimitMebibytes).toBeUndefined(); // the app has no memory limit
    editRendered(pod, spec => { spec.resources = { limits: { memory: '512Mi', cpu: '500m' } }; });
    const plan = InitPlan.of(pod);
    // memory request: max(init 32, app 100) = 100 (no pod-level request); limits: the pod-level ones
    expect(plan.podResources).toEqual({ cpuRequestMillis: 50, cpuLimitMillis: 500, memoryRequestMebibytes: 100, memoryLimitMebibytes: 512 });
    const md = plan.toMarkdown();
    expect(md).toContain('Effective pod resources (Kubernetes: the larger of the biggest init container and the sum of app containers; ' +
      'the pod-level `spec.resources` replaces the computed value of each field it sets):');
    expect(md).toContain('| init (max) | 50m | none | 32Mi | 64Mi |\n| app (sum) | 0m | none | 100Mi | none |\n| pod-level (spec.resources) | – | 500m | – | 512Mi |\n| **pod** | 50m | 500m | 100Mi | 512Mi |');
  });

  // What a user can do without touching the rendered JSON: a JSON patch on the ApiObject. cdk8s-plus-27's L1
  // keeps only the Kubernetes 1.27 schema, which has no pod-level resources; 32 and later keep the field
  // (their L1 writes a quantity's `value`, so the patch carries k8s.Quantity objects, as for container resources).
  test(`cdk8s-plus-${PLUS_LINE}: spec.resources added by a JSON patch ${PLUS_LINE === DESIGN_LINE ? 'is dropped: no pod-level resources' : 'reaches the plan'}`, () => {
    const { web } = proxyChart();
    ApiObject.of(web).addJsonPatch(JsonPatch.add('/spec/template/spec/resources', {
      requests: { cpu: kplus.k8s.Quantity.fromString('2') }, limits: { memory: kplus.k8s.Quantity.fromString('1Gi') },
    }));
    const plan = InitPlan.of(web);
    if (PLUS_LINE === DESIGN_LINE) {
      expect(plan.podLevelResources).toBeUndefined();
      expect(plan.podResources).toEqual({ cpuRequestMillis: 300, cpuLimitMillis: undefined, memoryRequestMebibytes: 192, memoryLimitMebibytes: 384 });
    } else {
      expect(plan.podLevelResources).toEqual({ cpuRequestMillis: 2000, memoryLimitMebibytes: 1024 });
      // cpu limit and memory request: the formula's (unbounded, 192Mi)
      expect(plan.podResources).toEqual({ cpuRequestMillis: 2000, memoryRequestMebibytes: 192, memoryLimitMebibytes: 1024 });
    }
  });

  test('quantities as manifests write them: "0.5", "250m", "2", 0.1, "128M", "1Gi", "1.5Gi", "1e6"; memory in (fractional) MiB', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'a', image: 'a:1.0' }, { name: 'b', image: 'b:1.0' }, { name: 'c', image: 'c:1.0' }] });
    editRendered(pod, spec => {
      spec.containers[0].resources = { requests: { cpu: '0.5', memory: '128M' }, limits: { cpu: '2', memory: '1Gi' } };
      spec.containers[1].resources = { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1.5', memory: '1.5Gi' } };
      spec.containers[2].resources = { requests: { cpu: 0.1, memory: '1e6' }, limits: { cpu: '100m', memory: '512Ki' } };
    });
    const plan = InitPlan.of(pod);
    // cpu request: 500 + 250 + 100 (0.1 core as a JSON number) = 850m
    // cpu limit: 2000 + 1500 + 100 = 3600m
    // memory request: 128M = 128e6 bytes = 122.0703125Mi; 1Gi = 1024Mi; 1e6 bytes = 0.95367431640625Mi
    //   -> 1147.02398681640625Mi (Markdown: 1147.02Mi)
    // memory limit: 1024 + 1536 + 0.5 = 2560.5Mi
    expect(plan.appResources.cpuRequestMillis).toBe(850);
    expect(plan.appResources.cpuLimitMillis).toBe(3600);
    expect(plan.appResources.memoryRequestMebibytes).toBeCloseTo(1147.02398681640625, 9);
    expect(plan.appResources.memoryLimitMebibytes).toBe(2560.5);
    expect(plan.toMarkdown()).toContain('| app (sum) | 850m | 3600m | 1147.02Mi | 2560.5Mi |');
  });

  test('a value that is not a Kubernetes quantity is an error naming the container and the field', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { metadata: { name: 'p' }, containers: [{ name: 'a', image: 'a:1.0' }] });
    editRendered(pod, spec => { spec.containers[0].resources = { requests: { cpu: 'half' } }; });
    expect(() => InitPlan.of(pod)).toThrow('Pod p: container "a" resources.requests.cpu: "half" is not a Kubernetes quantity (e.g. "500m", "1", "64Mi", "1Gi")');
  });
});

test('a workload is named by its manifest\'s kind: a MigrationJob\'s Job is a Job', () => {
  const chart = newChart();
  const credentials = new kplus.Secret(chart, 'db', { stringData: { username: 'u', password: 'p' } });
  const job = new MigrationJob(chart, 'schema', {
    tool: MigrationTool.flyway(),
    database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials }),
    migrations: MigrationSource.fromConfigMap(new kplus.ConfigMap(chart, 'sql', { data: { 'V1__init.sql': 'select 1;' } })),
  });
  const [plan] = InitPlan.forScope(chart);
  expect(plan.workload).toBe(`Job ${job.job.name}`);
  expect(plan.toMarkdown()).toContain(`### Job ${job.job.name}`);
});
