/**
 * Synthesizes every example app the way `npm run examples` does (into a temp
 * dir) and holds the output to the same standards as the library's own tests.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { DESIGN_LINE, PLUS_LINE } from './util/line';
import { podSpecOf, policyProblems, problemsOf } from './util/manifest';

const ROOT = path.join(__dirname, '..');

/** Synthesizes the examples as `npm run examples` does for `line`; returns the directory of the apps. */
function synthExamples(line = PLUS_LINE): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-'));
  execFileSync(path.join(ROOT, 'node_modules/.bin/ts-node'), ['--project', 'examples/tsconfig.json', 'examples/synth-all.ts', '--line', String(line)], {
    cwd: ROOT, env: { ...process.env, EXAMPLES_OUTDIR: outdir }, stdio: 'pipe',
  });
  return line === DESIGN_LINE ? outdir : path.join(outdir, `plus-${line}`);
}

function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const app of fs.readdirSync(dir).sort()) {
    for (const f of fs.readdirSync(path.join(dir, app)).sort()) {
      files[`${app}/${f}`] = fs.readFileSync(path.join(dir, app, f), 'utf8');
    }
  }
  return files;
}

const first = readTree(synthExamples());
const objects = Object.entries(first)
  .filter(([f]) => f.endsWith('.k8s.yaml'))
  .flatMap(([f, text]) => parseAllDocuments(text).map(d => ({ file: f, obj: d.toJS() })));

test('every example app produces manifests', () => {
  const apps = fs.readdirSync(path.join(ROOT, 'examples'), { withFileTypes: true })
    .filter(e => e.isDirectory() && fs.existsSync(path.join(ROOT, 'examples', e.name, 'main.ts')))
    .map(e => e.name);
  expect(apps.length).toBeGreaterThan(0);
  for (const app of apps) expect(Object.keys(first).some(f => f.startsWith(`${app}/`) && f.endsWith('.k8s.yaml'))).toBe(true);
});

test('every synthesized object validates against the Kubernetes schema and API-server rules', () => {
  expect(objects.length).toBeGreaterThan(0);
  expect(objects.flatMap(({ file, obj }) => problemsOf(obj).map(p => `${file}: ${p}`))).toEqual([]);
});

test('every init container is restricted (or explicitly opted out), pinned, bounded and explains failures', () => {
  expect(policyProblems(objects.map(o => o.obj), true)).toEqual([]);
});

test('every example app has an init plan next to its YAML: tables and a Mermaid flowchart per workload', () => {
  const yamls = Object.keys(first).filter(f => f.endsWith('.k8s.yaml'));
  for (const yaml of yamls) {
    const plan = first[yaml.replace(/\.k8s\.yaml$/, '.plan.md')];
    expect(plan).toBeDefined();
    const workloads = objects.filter(o => o.file === yaml && ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.obj.kind));
    expect(plan.match(/^### /gm)).toHaveLength(workloads.length);
    expect(plan.match(/^```mermaid$/gm)).toHaveLength(workloads.length);
  }
});

test('synthesizing the examples twice gives byte-identical output', () => {
  expect(readTree(synthExamples())).toEqual(first);
});

test('the guide example reproduces the Pod from the Kubernetes init-containers guide', () => {
  const pod = objects.find(o => o.file.startsWith('guide-pod/'))!.obj;
  expect(pod.kind).toBe('Pod');
  expect(pod.metadata.name).toBe('example-pod');
  expect(pod.spec.volumes).toEqual([{ name: 'shared-data', emptyDir: {} }]);
  const [init] = pod.spec.initContainers;
  expect(pod.spec.initContainers).toHaveLength(1);
  expect(init).toMatchObject({
    name: 'init-myservice',
    image: expect.stringMatching(/^busybox:\d+\.\d+\.\d+$/),
    command: ['sh', '-c', 'echo Initializing... && sleep 2'],
    volumeMounts: [{ name: 'shared-data', mountPath: '/data', readOnly: false }],
  });
  expect(pod.spec.containers).toHaveLength(1);
  expect(pod.spec.containers[0]).toMatchObject({
    name: 'myapp-container',
    image: 'myapp:1.0',
    ports: [{ containerPort: 80 }],
    volumeMounts: [{ name: 'shared-data', mountPath: '/app/data', readOnly: true }],
  });
});

/**
 * Why the later lines' runs skip the container tests: the scripts run from the
 * init containers, and every example's init containers are the design line's,
 * byte for byte. The only differences allowed are names cdk8s-plus derives from
 * what it renders (a MigrationJob's name hashes its pod spec, where later lines
 * add fields such as shareProcessNamespace), mapped object by object.
 */
const laterLine = PLUS_LINE === DESIGN_LINE ? test.skip : test;
laterLine(`every example's init containers under cdk8s-plus-${PLUS_LINE} are the design line's`, () => {
  const design = readTree(synthExamples(DESIGN_LINE));
  const yamls = Object.keys(design).filter(f => f.endsWith('.k8s.yaml'));
  expect(yamls.sort()).toEqual(Object.keys(first).filter(f => f.endsWith('.k8s.yaml')).sort());
  let compared = 0;
  for (const file of yamls) {
    const ours = parseAllDocuments(first[file]).map(d => d.toJS());
    const theirs = parseAllDocuments(design[file]).map(d => d.toJS());
    expect(ours.map(o => `${o.kind}`)).toEqual(theirs.map(o => `${o.kind}`));
    let text = first[file];
    for (const [i, o] of ours.entries()) {
      if (o.metadata?.name !== theirs[i].metadata?.name) text = text.split(o.metadata.name).join(theirs[i].metadata.name);
    }
    const mapped = parseAllDocuments(text).map(d => d.toJS());
    for (const [i, o] of mapped.entries()) {
      const spec = podSpecOf(o);
      if (!spec) continue;
      const where = { file, name: o.metadata.name };
      expect({ ...where, initContainers: spec.initContainers }).toEqual({ ...where, initContainers: podSpecOf(theirs[i]).initContainers });
      compared += spec.initContainers?.length ?? 0;
    }
  }
  expect(compared).toBeGreaterThan(10);
});
