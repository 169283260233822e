/**
 * One synthesis in a fresh process, so its time and peak memory are its own
 * (no other run's heap or garbage): `synth-child.ts N [library|cdk8s-plus] [--line L]`
 * prints {"ms":…,"maxRssMiB":…,"bytes":…}; with `--line L` both sides use
 * cdk8s-plus-L and, for the library, its package built for that line.
 *
 * `synth-child.ts N check [--line L]` is the fairness check: it prints
 * {"identical":true} when the library and the hand-written cdk8s-plus version
 * give the same YAML for N workloads, and fails showing where they differ.
 */
import { lineArgument, useLine } from '../projenrc/line-resolution';

const workloads = Number(process.argv[2]);
const variant = process.argv[3] ?? 'library';
if (!Number.isInteger(workloads) || workloads < 1 || !['library', 'cdk8s-plus', 'check'].includes(variant)) {
  throw new Error(`usage: synth-child.ts N [library|cdk8s-plus|check] [--line L]; got ${process.argv.slice(2).join(' ')}`);
}
// Before the fixture loads: imports are hoisted, so it is required only after this.
useLine(lineArgument(process.argv));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { withCdk8sPlus, withLibrary } = require('./synth-fixture') as typeof import('./synth-fixture');

if (variant === 'check') {
  const library = withLibrary(workloads).synthYaml();
  const direct = withCdk8sPlus(workloads).synthYaml();
  if (library !== direct) {
    const [a, b] = [library.split('\n'), direct.split('\n')];
    const at = a.findIndex((l, i) => l !== b[i]);
    const around = (lines: string[]) => lines.slice(Math.max(0, at - 3), at + 4).map(l => `    ${l}`).join('\n');
    throw new Error(`line ${at + 1} of the YAML differs:\n  library:\n${around(a)}\n  cdk8s-plus:\n${around(b)}`);
  }
  console.log(JSON.stringify({ identical: true, bytes: library.length }));
} else {
  const build = variant === 'cdk8s-plus' ? withCdk8sPlus : withLibrary;
  // Warm up module loading and the JIT on a small app first.
  build(50).synthYaml();
  const started = process.hrtime.bigint();
  const yaml = build(workloads).synthYaml();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, bytes: yaml.length }));
}
