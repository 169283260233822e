/**
 * Helpers of rbac, permissions, security and kinds .e2e.ts: workloads built
 * with the library in a chart of their own namespace, synthesized to YAML,
 * applied, and looked at from outside (pod spec, logs, `kubectl exec`).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { stringify } from 'yaml';
import { describePods, getJson, kubectl, waitFor } from './kube';
import { KubeObject, parseManifests } from './workloads';

/**
 * Resources of an app container: the node has 2 CPUs, and cdk8s-plus asks 1
 * CPU per container by default.
 */
export const APP_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(50) },
  memory: { request: Size.mebibytes(32), limit: Size.mebibytes(64) },
};

/** The app stand-in images (test/e2e/images/build.sh): `/stand-in-app`, user 1000 (search: none). */
export const APP_IMAGE = 'ghcr.io/example/web:2.4.1';
export const BILLING_IMAGE = 'ghcr.io/example/billing:2.0.4';

/** A namespace name no other test uses: `<prefix>-<6 hex>`. */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(3).toString('hex')}`;
}

/**
 * Builds an app with `build`, which gets a fresh App (to add charts of its
 * own) and returns nothing; synthesizes it to YAML text.
 */
export function synthApp(build: (app: App) => void): { text: string; objects: KubeObject[] } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-synth-'));
  try {
    const app = new App({ outdir });
    build(app);
    const text = app.synthYaml();
    return { text, objects: parseManifests(text) };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** One chart in `namespace`, built by `build`, synthesized to YAML text. */
export function synthChart(namespace: string, build: (chart: Chart) => void): { text: string; objects: KubeObject[] } {
  return synthApp(app => build(new Chart(app, namespace, { namespace })));
}

/** Objects as multi-document YAML text, for applyManifests. */
export function toYaml(objects: object[]): string {
  return objects.map(o => stringify(o)).join('---\n');
}

/** The object of `kind` whose name starts with `prefix` (cdk8s appends a hash), or fails. */
export function find(objects: KubeObject[], kind: string, prefix = ''): KubeObject {
  const found = objects.filter(o => o.kind === kind && o.metadata.name.startsWith(prefix));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} named ${prefix}*, found ${found.map(o => o.metadata.name).join(', ') || 'none'}`);
  }
  return found[0];
}

/** The pod spec of a synthesized workload. */
export function podSpecOf(o: KubeObject): any {
  if (o.kind === 'Pod') return o.spec;
  if (o.kind === 'CronJob') return o.spec.jobTemplate.spec.template.spec;
  return o.spec.template.spec;
}

/** Runs a command in a container through the API server and the kubelet; resolves with stdout, stderr and the exit code. */
export async function exec(namespace: string, pod: string, container: string, command: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const stdout = await kubectl(['exec', '-n', namespace, pod, '-c', container, '--', ...command]);
    return { stdout, code: 0 };
  } catch (error: any) {
    const message = String(error.message ?? error);
    const code = /command terminated with exit code (\d+)/.exec(message);
    if (!code) throw error;
    return { stdout: message, code: Number(code[1]) };
  }
}

/** Every container status of a live pod (init and app), by name. */
export function containerStatuses(pod: any): Map<string, any> {
  return new Map([...pod.status?.initContainerStatuses ?? [], ...pod.status?.containerStatuses ?? []].map((s: any) => [s.name, s]));
}

/** Waits until a pod (by name) exists and `probe(pod)` holds. */
export async function podWhere(namespace: string, name: string, what: string, probe: (pod: any) => boolean, timeoutMs = 120_000): Promise<any> {
  return waitFor(`pod ${namespace}/${name} ${what}`, timeoutMs, async () => {
    const pod = await getJson(['pod', '-n', namespace, name]);
    return probe(pod) ? pod : undefined;
  }, () => describePods(namespace));
}

/** `error` with the state of the namespaces' pods appended to its message, keeping its stack (for jest's code frame). */
export async function withPods(error: unknown, ...namespaces: string[]): Promise<unknown> {
  if (!(error instanceof Error)) return error;
  const states = await Promise.all(namespaces.map(ns => describePods(ns).catch(e => String(e))));
  error.message += `\npods: ${states.join('; ')}`;
  return error;
}

/**
 * Deletes namespaces without waiting for them to go: their names are unique,
 * so nothing later clashes with them, and Kubernetes 1.20's namespace
 * controller takes 10-60 s to finish one with a running pod (it requeues by the
 * pods' grace period). Errors are ignored: cleanup must not hide the test's own
 * failure.
 */
export async function cleanup(...namespaces: string[]): Promise<void> {
  await Promise.all(namespaces.map(ns => kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']).catch(() => undefined)));
}

/**
 * Runs a test's `body` in its namespaces: a failure carries the state of their
 * pods (`withPods`), and they are deleted either way (`cleanup`).
 */
export async function inNamespaces(namespaces: string[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    throw await withPods(error, ...namespaces);
  } finally {
    await cleanup(...namespaces);
  }
}
