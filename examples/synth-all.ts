/**
 * Synthesizes every example app (examples/<app>/main.ts) to
 * examples/dist/<app>/*.k8s.yaml, in one process, and writes each chart's init
 * plan next to its YAML as <chart>.plan.md: `npm run examples`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { exampleOutdir } from './outdir';
import { InitPlan } from '../src';

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
