/**
 * Synthesis cost, per cdk8s-plus line: the library against the same manifests
 * written directly with cdk8s-plus (same run, medians), and how time and peak
 * memory grow with the number of workloads. Every figure is named after its
 * line (`synth_overhead_ratio_33`); the design line also gets the 100-workload run.
 *
 * Each measurement runs in a fresh process (synth-child.ts): this one never
 * loads the library, so it cannot mix lines (a line is chosen per process).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DESIGN_LINE, lineDir, PLUS_LINES } from '../projenrc/lines';

const ROOT = path.join(__dirname, '..');
const LINES = PLUS_LINES.map(l => l.line);
/** Back-to-back pairs per line at 1,000 workloads. */
const RUNS = 7;
const WORKLOADS = 1000;
/** The larger app, one run per line, for the scaling figures. */
const LARGE = 10000;
/** The smaller app, design line only. */
const SMALL = 100;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Run { readonly ms: number; readonly maxRssMiB: number }

function child(line: number, workloads: number, variant: 'library' | 'cdk8s-plus' | 'check'): any {
  const args = ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'synth-child.ts'), String(workloads), variant, '--line', String(line)];
  const out = execFileSync(process.execPath, args, {
    encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, 'tsconfig.json') }, maxBuffer: 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Fails when a later line's package is missing or older than a file of src/: its figures would be of other code. */
function assertBuilt(line: number): void {
  if (line === DESIGN_LINE) return;
  const index = path.join(ROOT, lineDir(line), 'lib', 'index.js');
  const rebuild = 'run `npx projen build:lines` first';
  if (!fs.existsSync(index)) throw new Error(`${lineDir(line)} is not built; ${rebuild}`);
  const built = fs.statSync(index).mtimeMs;
  const newer = (fs.readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[])
    .map(f => path.join(ROOT, 'src', f))
    .find(f => f.endsWith('.ts') && fs.statSync(f).mtimeMs > built);
  if (newer) throw new Error(`${lineDir(line)} is older than ${path.relative(ROOT, newer)}; ${rebuild}`);
}

/** Returns `name: value` lines. */
export function synthBenchmarks(): string[] {
  for (const line of LINES) assertBuilt(line);
  // The comparison is only fair if both build the same manifests, on every line.
  for (const line of LINES) {
    try {
      child(line, 20, 'check');
    } catch (e) {
      throw new Error(`cdk8s-plus-${line}: the library and the hand-written cdk8s-plus version differ; the comparison would be unfair\n${(e as Error).message}`);
    }
  }
  // Each run in a fresh process, the two variants back to back, alternating which goes first;
  // the lines take turns, so a slow spell of the machine does not fall on one line.
  const library = new Map<number, Run[]>(LINES.map(l => [l, []]));
  const direct = new Map<number, Run[]>(LINES.map(l => [l, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const line of LINES) {
      const order: Array<'library' | 'cdk8s-plus'> = run % 2 === 0 ? ['library', 'cdk8s-plus'] : ['cdk8s-plus', 'library'];
      for (const variant of order) (variant === 'library' ? library : direct).get(line)!.push(child(line, WORKLOADS, variant));
    }
  }
  const large = new Map<number, Run>(LINES.map(l => [l, child(l, LARGE, 'library')]));
  const small: Run = child(DESIGN_LINE, SMALL, 'library');

  const f0 = (v: number) => v.toFixed(0);
  const f3 = (v: number) => v.toFixed(3);
  const figures: Array<[string, (line: number) => string]> = [
    [`synth_library_ms_${WORKLOADS}`, l => f0(median(library.get(l)!.map(r => r.ms)))],
    [`synth_cdk8s_plus_ms_${WORKLOADS}`, l => f0(median(direct.get(l)!.map(r => r.ms)))],
    // Median of the per-run ratios: each pair ran back to back, so machine noise hits both alike.
    ['synth_overhead_ratio', l => f3(median(library.get(l)!.map((r, i) => r.ms / direct.get(l)![i].ms)))],
    [`synth_ms_${WORKLOADS}`, l => f0(median(library.get(l)!.map(r => r.ms)))],
    [`synth_peak_rss_mib_${WORKLOADS}`, l => f0(median(library.get(l)!.map(r => r.maxRssMiB)))],
    [`synth_ms_${LARGE}`, l => f0(large.get(l)!.ms)],
    [`synth_peak_rss_mib_${LARGE}`, l => f0(large.get(l)!.maxRssMiB)],
    [`synth_ms_per_workload_${WORKLOADS}`, l => f3(median(library.get(l)!.map(r => r.ms)) / WORKLOADS)],
    [`synth_ms_per_workload_${LARGE}`, l => f3(large.get(l)!.ms / LARGE)],
    // 1.0 is linear; above 1 the cost per workload grows with the count.
    [`synth_scaling_ratio_${LARGE}_vs_${WORKLOADS}`, l => f3((large.get(l)!.ms / LARGE) / (median(library.get(l)!.map(r => r.ms)) / WORKLOADS))],
    ['synth_rss_mib_per_1000_workloads', l => ((large.get(l)!.maxRssMiB - median(library.get(l)!.map(r => r.maxRssMiB))) / ((LARGE - WORKLOADS) / 1000)).toFixed(1)],
  ];
  return [
    `synth_ms_${SMALL}_${DESIGN_LINE}: ${f0(small.ms)}`,
    `synth_peak_rss_mib_${SMALL}_${DESIGN_LINE}: ${f0(small.maxRssMiB)}`,
    ...figures.flatMap(([name, value]) => LINES.map(line => `${name}_${line}: ${value(line)}`)),
  ];
}
