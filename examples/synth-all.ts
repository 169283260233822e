/**
 * Synthesizes every example app (examples/<app>/main.ts) to
 * examples/dist/<app>/*.k8s.yaml, in one process: `npm run examples`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { exampleOutdir } from './outdir';

const apps = fs.readdirSync(__dirname, { withFileTypes: true })
  .filter(e => e.isDirectory() && fs.existsSync(path.join(__dirname, e.name, 'main.ts')))
  .map(e => e.name)
  .sort();

for (const app of apps) {
  fs.rmSync(exampleOutdir(app), { recursive: true, force: true });
  // Each app synthesizes itself on load, as `cdk8s synth` would run it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.join(__dirname, app, 'main.ts'));
  const files = fs.readdirSync(exampleOutdir(app)).filter(f => f.endsWith('.k8s.yaml'));
  console.log(`${app}: ${files.map(f => path.join(path.relative(process.cwd(), exampleOutdir(app)), f)).join(', ')}`);
}
