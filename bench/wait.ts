/**
 * WaitForService figures, each beside a plain `until nc …; do sleep 2; done`
 * loop measured in the same run, both under Debian's busybox sh, each as PID 1 of its own
 * container (test/util/container.ts).
 *
 * Debian's busybox nc has no `-z`; the baseline uses `nc -w 1 HOST PORT -e true`,
 * which is the same check (connect, then exit).
 */
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { InitSequence, WaitForService, WaitTarget } from '../src';
import { runContainer, runScript, RunResult } from '../test/util/container';
import { podSpecOf } from '../test/util/manifest';
import { freePort, tcpListenerAfter } from '../test/util/servers';

const TRIALS = 21;

function waitContainer(ports: number[]): any {
  const chart = new Chart(Testing.app(), 'bench');
  const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
  InitSequence.of(pod).add(new WaitForService(chart, 'wait', {
    targets: ports.map(port => WaitTarget.tcp({ host: '127.0.0.1', port })),
    timeout: Duration.seconds(30),
  }));
  return podSpecOf(Testing.synth(chart)[0]).initContainers[0];
}

function baselineLoop(ports: number[]): Promise<RunResult> {
  const script = ports.map(p => `until nc -w 1 127.0.0.1 ${p} -e true </dev/null 2>/dev/null; do sleep 2; done`).join('\n');
  return runScript(script);
}

/** Runs `run` against listeners opening after `delays` ms; returns ms from the last opening to exit, and the total. */
async function trial(delays: number[], run: (ports: number[]) => Promise<RunResult>): Promise<{ detectMs: number; totalMs: number }> {
  const listeners = await Promise.all(delays.map(async d => tcpListenerAfter(await freePort(), d)));
  try {
    const started = Date.now();
    const result = await run(listeners.map(l => l.port));
    const ended = Date.now();
    if (result.code !== 0) throw new Error(`wait failed: ${result.output}`);
    const lastOpened = Math.max(...await Promise.all(listeners.map(l => l.openedAt)));
    return { detectMs: ended - lastOpened, totalMs: ended - started };
  } finally {
    await Promise.all(listeners.map(l => l.close()));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Returns `name: value` lines. */
export async function waitBenchmarks(): Promise<string[]> {
  // Dependencies become reachable at 200 ms .. 3000 ms, spread evenly over the trials.
  const delays = Array.from({ length: TRIALS }, (_, i) => 200 + Math.round(i * 2800 / (TRIALS - 1)));
  const ours: number[] = [];
  const baseline: number[] = [];
  for (const d of delays) {
    ours.push((await trial([d], ports => runContainer(waitContainer(ports)))).detectMs);
    baseline.push((await trial([d], baselineLoop)).detectMs);
  }
  const parallel = (await trial([1000, 2000, 3000], ports => runContainer(waitContainer(ports)))).totalMs;
  const sequential = (await trial([1000, 2000, 3000], baselineLoop)).totalMs;
  return [
    `wait_detect_ms_p50: ${median(ours)}`,
    `wait_detect_ms_max: ${Math.max(...ours)}`,
    `baseline_nc_sleep2_detect_ms_p50: ${median(baseline)}`,
    `baseline_nc_sleep2_detect_ms_max: ${Math.max(...baseline)}`,
    `wait_parallel_ratio: ${(parallel / 3000).toFixed(3)}`,
    `baseline_nc_sleep2_parallel_ratio: ${(sequential / 3000).toFixed(3)}`,
    `wait_trials: ${TRIALS}`,
  ];
}
