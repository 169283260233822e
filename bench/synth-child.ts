/**
 * One synthesis in a fresh process, so its peak memory is its own:
 * prints {"ms":…,"maxRssMiB":…,"bytes":…} for N workloads built with the library.
 */
import { withLibrary } from './synth-fixture';

const workloads = Number(process.argv[2]);
const started = process.hrtime.bigint();
const yaml = withLibrary(workloads).synthYaml();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, bytes: yaml.length }));
