/**
 * Time from SIGTERM to exit for every script that waits or retries, run as PID 1
 * of its container (where sh ignores SIGTERM without a handler) under both
 * busybox builds: what `kubectl delete pod` waits for while a step is stuck.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ConfigFetchInit, ConfigSource, InitSequence, InitStep, SharedVolume, WaitForJob, WaitForService, WaitTarget } from '../src';
import { BUSYBOX_BUILDS, runContainer, RunOptions, whenOutput } from '../test/util/container';
import { kubeApi, KubeApi } from '../test/util/kube-api';
import { initContainersOf, podSpecOf } from '../test/util/manifest';
import { s3StandIn } from '../test/util/s3-bucket';
import { freePort, httpServer, LocalServer } from '../test/util/servers';

const TRIALS = 3;

/** A waiting or retrying step, what makes it wait, and the log line that shows it is waiting. */
interface Case {
  readonly name: string;
  readonly step: (chart: Chart, volume: SharedVolume) => InitStep;
  readonly waiting: RegExp;
  readonly options?: RunOptions;
  /** Options that depend on the synthesized objects (e.g. the API token the kubelet would mount). */
  readonly optionsFor?: (objects: any[]) => Promise<RunOptions>;
}

function synth(step: Case['step']): any[] {
  const chart = new Chart(Testing.app(), 'bench');
  const volume = new SharedVolume(chart, 'config');
  const pod = new kplus.Pod(chart, 'pod', { metadata: { namespace: 'shop' }, containers: [{ name: 'app', image: 'app:1.0' }] });
  InitSequence.of(pod).add(step(chart, volume));
  return Testing.synth(chart);
}

async function cases(unavailable: LocalServer, refusedPort: number, apis: KubeApi[]): Promise<Case[]> {
  const s3 = s3StandIn();
  s3.down(true);
  return [
    {
      name: 'wait_for_service',
      step: chart => new WaitForService(chart, 'wait', { targets: [WaitTarget.tcp({ host: '127.0.0.1', port: refusedPort })], timeout: Duration.minutes(1) }),
      waiting: /not ready yet/,
    },
    {
      name: 'fetch_http',
      step: (chart, volume) => new ConfigFetchInit(chart, 'fetch', {
        volume,
        timeout: Duration.minutes(1),
        source: ConfigSource.http({ files: [{ url: `http://127.0.0.1:${unavailable.port}/flags.json`, path: 'flags.json' }] }),
      }),
      waiting: /retrying/,
      options: { tools: ['curl'] },
    },
    {
      name: 'fetch_git',
      step: (chart, volume) => new ConfigFetchInit(chart, 'fetch', {
        volume,
        timeout: Duration.minutes(1),
        source: ConfigSource.git({ repository: `http://127.0.0.1:${refusedPort}/site.git`, revision: 'v1' }),
      }),
      waiting: /retrying/,
      options: { tools: ['git'] },
    },
    {
      name: 'fetch_s3',
      step: (chart, volume) => new ConfigFetchInit(chart, 'fetch', {
        volume,
        timeout: Duration.minutes(1),
        source: ConfigSource.s3({ uri: 's3://bucket/app/', path: 'app' }),
      }),
      waiting: /retrying/,
      options: { mounts: s3.mounts },
    },
    {
      name: 'wait_for_job',
      step: chart => new WaitForJob(chart, 'wait', {
        job: new kplus.Job(chart, 'schema', { metadata: { name: 'schema', namespace: 'shop' }, containers: [{ name: 'm', image: 'm:1.0' }] }),
        timeout: Duration.minutes(1),
      }),
      waiting: /running/,
      optionsFor: async objects => {
        const api = await kubeApi(objects, 'shop');
        apis.push(api);
        api.setJob('shop', 'schema', { active: 1 });
        const spec = podSpecOf(objects.find(o => o.kind === 'Pod'));
        const kubelet = api.kubeletMounts(spec, spec.initContainers[0], 'shop');
        return { env: api.serviceEnv, volumes: kubelet.volumes, mounts: kubelet.mounts, tools: ['curl'] };
      },
    },
  ];
}

/** Returns `name: value` lines. */
export async function sigtermBenchmarks(): Promise<string[]> {
  const unavailable = await httpServer((_req, res) => { res.writeHead(503); res.end(); });
  const refusedPort = await freePort();
  const apis: KubeApi[] = [];
  const lines: string[] = [];
  let overall = 0;
  try {
    for (const c of await cases(unavailable, refusedPort, apis)) {
      let max = 0;
      for (const busybox of BUSYBOX_BUILDS) {
        for (let i = 0; i < TRIALS; i++) {
          const objects = synth(c.step);
          const options = { ...c.options, ...await c.optionsFor?.(objects) };
          const result = await runContainer(initContainersOf(objects, 'Pod')[0], { ...options, busybox, sigtermWhen: whenOutput(c.waiting), killAfterMs: 30_000 });
          if (result.exitAfterSigtermMs === undefined || result.code !== 143) {
            throw new Error(`${c.name} under ${busybox.name} busybox did not stop on SIGTERM (exit ${result.code}): ${result.output}`);
          }
          max = Math.max(max, result.exitAfterSigtermMs);
        }
      }
      lines.push(`sigterm_exit_ms_max_${c.name}: ${max}`);
      overall = Math.max(overall, max);
    }
  } finally {
    await unavailable.close();
    await Promise.all(apis.map(a => a.close()));
  }
  return [`sigterm_exit_ms_max: ${overall}`, ...lines, `sigterm_trials: ${TRIALS} per script and busybox build`];
}
