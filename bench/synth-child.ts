/**
 * One synthesis in a fresh process, so its time and peak memory are its own
 * (no other run's heap or garbage): `synth-child.ts N [library|cdk8s-plus]`
 * prints {"ms":…,"maxRssMiB":…,"bytes":…}.
 */
import { withCdk8sPlus, withLibrary } from './synth-fixture';

const workloads = Number(process.argv[2]);
const build = process.argv[3] === 'cdk8s-plus' ? withCdk8sPlus : withLibrary;
// Warm up module loading and the JIT on a small app first.
build(50).synthYaml();
const started = process.hrtime.bigint();
const yaml = build(workloads).synthYaml();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, bytes: yaml.length }));
