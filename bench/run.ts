/**
 * `npm run bench`: performance figures as `name: value` lines, measured in one
 * run so ratios compare like with like. Not part of `npm test`: timings belong
 * here, not in assertions. `npm run bench -- synth`, `-- wait` or `-- sigterm` runs one group.
 *
 * Each group is loaded only when it runs: the wait and SIGTERM groups load the
 * test harness (test/util/), which the synthesis group does not need.
 */
/* eslint-disable @typescript-eslint/no-require-imports */

async function main(groups: string[]): Promise<void> {
  const all = groups.length === 0;
  if (all || groups.includes('synth')) {
    const { synthBenchmarks } = require('./synth') as typeof import('./synth');
    for (const line of synthBenchmarks()) console.log(line);
  }
  if (all || groups.includes('wait')) {
    const { waitBenchmarks } = require('./wait') as typeof import('./wait');
    for (const line of await waitBenchmarks()) console.log(line);
  }
  if (all || groups.includes('sigterm')) {
    const { sigtermBenchmarks } = require('./sigterm') as typeof import('./sigterm');
    for (const line of await sigtermBenchmarks()) console.log(line);
  }
}

main(process.argv.slice(2)).catch(e => {
  console.error(e);
  process.exit(1);
});
