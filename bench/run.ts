/**
 * `npm run bench`: performance figures as `name: value` lines, measured in one
 * run so ratios compare like with like. Not part of `npm test`: timings belong
 * here, not in assertions. `npm run bench -- synth`, `-- wait` or `-- sigterm` runs one group.
 */
import { sigtermBenchmarks } from './sigterm';
import { synthBenchmarks } from './synth';
import { waitBenchmarks } from './wait';

async function main(groups: string[]): Promise<void> {
  const all = groups.length === 0;
  if (all || groups.includes('synth')) for (const line of synthBenchmarks()) console.log(line);
  if (all || groups.includes('wait')) for (const line of await waitBenchmarks()) console.log(line);
  if (all || groups.includes('sigterm')) for (const line of await sigtermBenchmarks()) console.log(line);
}

main(process.argv.slice(2)).catch(e => {
  console.error(e);
  process.exit(1);
});
