/**
 * Time from SIGTERM to exit for every script that waits or retries, run as PID 1
 * of its container (where sh ignores SIGTERM without a handler) under both
 * busybox builds: what `kubectl delete pod` waits for while a step is stuck.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ConfigFetchInit, ConfigSource, InitSequence, InitStep, SharedVolume, WaitForService, WaitTarget } from '../src';
import { BUSYBOX_BUILDS, runContainer, RunOptions, whenOutput } from '../test/util/container';
import { initContainersOf } from '../test/util/manifest';
import { freePort, httpServer, LocalServer } from '../test/util/servers';

const TRIALS = 3;

/** A waiting or retrying step, what makes it wait, and the log line that shows it is waiting. */
interface Case {
  readonly name: string;
  readonly step: (chart: Chart, volume: SharedVolume) => InitStep;
  readonly waiting: RegExp;
  readonly options?: RunOptions;
}

function container(step: Case['step']): any {
  const chart = new Chart(Testing.app(), 'bench');
  const volume = new SharedVolume(chart, 'config');
  const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
  InitSequence.of(pod).add(step(chart, volume));
  return initContainersOf(Testing.synth(chart))[0];
}

async function cases(unavailable: LocalServer, refusedPort: number): Promise<Case[]> {
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
        source: ConfigSource.git({ repository: `http://127.0.0.1:${refusedPort}/site.git`, ref: 'v1' }),
      }),
      waiting: /retrying/,
      options: { tools: ['git'] },
    },
  ];
}

/** Returns `name: value` lines. */
export async function sigtermBenchmarks(): Promise<string[]> {
  const unavailable = await httpServer((_req, res) => { res.writeHead(503); res.end(); });
  const refusedPort = await freePort();
  const lines: string[] = [];
  let overall = 0;
  try {
    for (const c of await cases(unavailable, refusedPort)) {
      let max = 0;
      for (const busybox of BUSYBOX_BUILDS) {
        for (let i = 0; i < TRIALS; i++) {
          const result = await runContainer(container(c.step), { ...c.options, busybox, sigtermWhen: whenOutput(c.waiting), killAfterMs: 30_000 });
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
  }
  return [`sigterm_exit_ms_max: ${overall}`, ...lines, `sigterm_trials: ${TRIALS} per script and busybox build`];
}
