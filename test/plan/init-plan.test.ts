import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  ConfigFetchInit, ConfigSource, InitPlan, InitSequence, InitStep, SharedVolume, VolumePermissionsInit, WaitForService, WaitTarget,
} from '../../src';
import { newChart } from '../util/fixtures';

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
