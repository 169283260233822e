/**
 * Synthesizes every example app (examples/<app>/main.ts) to
 * examples/dist/<app>/*.k8s.yaml, in one process, and writes each chart's init
 * plan next to its YAML as <chart>.plan.md: `npm run examples`.
 *
 * With `--line <n>`, against cdk8s-plus-<n> and the line's built package
 * (build/plus-<n>/), to examples/dist/plus-<n>/<app>/.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { App, Chart } from 'cdk8s';
import { exampleOutdir } from './outdir';
import { lineArgument, useLine } from '../projenrc/line-resolution';
import { DESIGN_LINE } from '../projenrc/lines';

const line = lineArgument(process.argv);
useLine(line);
if (line !== DESIGN_LINE) process.env.EXAMPLES_OUTDIR = path.join(process.env.EXAMPLES_OUTDIR ?? path.join(__dirname, 'dist'), `plus-${line}`);
// Loaded after useLine, so it is the line's.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { InitPlan } = require('../src') as typeof import('../src');

/** Markdown with a table and a Mermaid flowchart per workload of the chart. */
function planOf(chart: Chart): string {
  const plans = InitPlan.forScope(chart);
  return [
    `# Init plan: ${chart.node.id}`,
    '',
    ...plans.flatMap(plan => [plan.toMarkdown(), '```mermaid', plan.toMermaid().trimEnd(), '```', '']),
  ].join('\n');
}

const apps = fs.readdirSync(__dirname, { withFileTypes: true })
  .filter(e => e.isDirectory() && fs.existsSync(path.join(__dirname, e.name, 'main.ts')))
  .map(e => e.name)
  .sort();

for (const name of apps) {
  const outdir = exampleOutdir(name);
  fs.rmSync(outdir, { recursive: true, force: true });
  // Each app synthesizes itself on load, as `cdk8s synth` would run it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { app } = require(path.join(__dirname, name, 'main.ts')) as { app: App };
  for (const chart of app.charts) {
    fs.writeFileSync(path.join(outdir, `${chart.node.id}.plan.md`), planOf(chart));
  }
  const files = fs.readdirSync(outdir).sort().map(f => path.join(path.relative(process.cwd(), outdir), f));
  console.log(`${name}: ${files.join(', ')}`);
}
