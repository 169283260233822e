/**
 * `npm run bench`: performance figures as `name: value` lines, measured in one
 * run so ratios compare like with like. Not part of `npm test`: timings belong
 * here, not in assertions.
 */
import { waitBenchmarks } from './wait';

async function main(): Promise<void> {
  for (const line of await waitBenchmarks()) console.log(line);
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
