/**
 * Synthesis cost: the library against the same manifests written directly with
 * cdk8s-plus (same run, medians), and how time and peak memory grow with the
 * number of workloads.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { withCdk8sPlus, withLibrary } from './synth-fixture';

const RUNS = 7;
const WORKLOADS = 1000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function child(workloads: number, variant = 'library'): { ms: number; maxRssMiB: number } {
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'synth-child.ts'), String(workloads), variant], {
    encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, 'tsconfig.json') }, maxBuffer: 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Returns `name: value` lines. */
export function synthBenchmarks(): string[] {
  // The comparison is only fair if both build the same manifests.
  if (withLibrary(20).synthYaml() !== withCdk8sPlus(20).synthYaml()) {
    throw new Error('the library and the hand-written cdk8s-plus version differ; the comparison would be unfair');
  }
  // Each run in a fresh process, the two variants back to back, alternating which goes first.
  const library: number[] = [];
  const direct: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const first = run % 2 === 0 ? 'library' : 'cdk8s-plus';
    const a = child(WORKLOADS, first).ms;
    const b = child(WORKLOADS, first === 'library' ? 'cdk8s-plus' : 'library').ms;
    library.push(first === 'library' ? a : b);
    direct.push(first === 'library' ? b : a);
  }
  const lines = [
    `synth_library_ms_1000: ${median(library).toFixed(0)}`,
    `synth_cdk8s_plus_ms_1000: ${median(direct).toFixed(0)}`,
    // Median of the per-run ratios: each pair ran back to back, so machine noise hits both alike.
    `synth_overhead_ratio: ${median(library.map((ms, i) => ms / direct[i])).toFixed(3)}`,
  ];
  const scale = [100, 1000, 10000].map(n => ({ n, ...child(n) }));
  for (const s of scale) {
    lines.push(`synth_ms_${s.n}: ${s.ms.toFixed(0)}`, `synth_peak_rss_mib_${s.n}: ${s.maxRssMiB.toFixed(0)}`);
  }
  const perWorkload = (s: { n: number; ms: number }) => s.ms / s.n;
  lines.push(
    `synth_ms_per_workload_1000: ${perWorkload(scale[1]).toFixed(3)}`,
    `synth_ms_per_workload_10000: ${perWorkload(scale[2]).toFixed(3)}`,
    // 1.0 is linear; above 1 the cost per workload grows with the count.
    `synth_scaling_ratio_10000_vs_1000: ${(perWorkload(scale[2]) / perWorkload(scale[1])).toFixed(3)}`,
    `synth_rss_mib_per_1000_workloads: ${((scale[2].maxRssMiB - scale[1].maxRssMiB) / 9).toFixed(1)}`,
  );
  return lines;
}
