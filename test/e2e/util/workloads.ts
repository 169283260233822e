/**
 * Applying synthesized manifests and waiting for their workloads, on a node
 * with 2 CPUs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { apply, describePods, ensureNamespace, getJson, kubectl, waitFor } from './kube';

/** A synthesized object, as parsed. */
export interface KubeObject {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: any;
}

/** The objects of one YAML text. */
export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text).map(d => d.toJSON()).filter(o => o);
}

/** An example's synthesized manifests, as `npm run examples` wrote them. */
export function exampleManifests(app: string): { text: string; objects: KubeObject[] } {
  const file = path.join(__dirname, '..', '..', '..', 'examples', 'dist', app, `${app}.k8s.yaml`);
  const text = fs.readFileSync(file, 'utf8');
  return { text, objects: parseManifests(text) };
}

/**
 * Applies manifests unchanged, after creating their namespaces. kubectl's
 * client-side schema is 1.20's, which refuses fields newer than it (StatefulSet
 * `minReadySeconds`); the API server drops them as a 1.20 cluster does.
 */
export async function applyManifests(text: string): Promise<void> {
  const namespaces = new Set(parseManifests(text).map(o => o.metadata.namespace).filter((n): n is string => !!n));
  for (const ns of namespaces) await ensureNamespace(ns);
  await kubectl(['apply', '--validate=false', '-f', '-'], text);
}

export const POD_WORKLOADS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

/**
 * The node has 2 CPUs and cdk8s-plus asks 1 CPU per app container, so replicas
 * beyond one would pend: each Deployment and StatefulSet runs one replica. Its
 * init sequence is the same for every replica.
 */
export async function oneReplica(objects: KubeObject[]): Promise<void> {
  for (const o of objects.filter(x => (x.kind === 'Deployment' || x.kind === 'StatefulSet') && (x.spec?.replicas ?? 1) > 1)) {
    await kubectl(['scale', o.kind.toLowerCase(), o.metadata.name, '-n', o.metadata.namespace ?? 'default', '--replicas=1']);
  }
}

/** The label selector of a workload's pods. */
export function podSelector(o: KubeObject): string {
  const labels = o.kind === 'Pod' ? undefined
    : o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.metadata.labels
      : o.spec.selector?.matchLabels ?? o.spec.template.metadata.labels;
  if (!labels) return '';
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Waits until a workload is Ready (Complete for a Job). */
export async function workloadReady(o: KubeObject, timeoutMs = 180_000): Promise<void> {
  const ns = o.metadata.namespace ?? 'default';
  const name = o.metadata.name;
  const what = `${o.kind} ${ns}/${name} to be ${o.kind === 'Job' ? 'Complete' : 'Ready'}`;
  await waitFor(what, timeoutMs, async () => {
    const live = await getJson([o.kind.toLowerCase(), '-n', ns, name]);
    switch (o.kind) {
      case 'Pod':
        return (live.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True') || undefined;
      case 'Job':
        return (live.status.conditions ?? []).some((c: any) => c.type === 'Complete' && c.status === 'True') || undefined;
      case 'DaemonSet':
        return (live.status.numberReady >= 1 && live.status.numberReady === live.status.desiredNumberScheduled) || undefined;
      default:
        const ready = (live.status.readyReplicas ?? 0) >= (live.spec.replicas ?? 1);
        return ready && live.status.observedGeneration >= live.metadata.generation || undefined;
    }
  }, () => describePods(ns));
}

/** The newest pod of a workload. */
export async function workloadPod(o: KubeObject): Promise<any> {
  const ns = o.metadata.namespace ?? 'default';
  if (o.kind === 'Pod') return getJson(['pod', '-n', ns, o.metadata.name]);
  const items = (await getJson(['pods', '-n', ns, '-l', podSelector(o)])).items
    .filter((p: any) => !p.metadata.deletionTimestamp)
    .sort((a: any, b: any) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
  if (items.length === 0) throw new Error(`no pods of ${o.kind} ${ns}/${o.metadata.name}`);
  return items[items.length - 1];
}

/** Every init container's log of a pod, by container name. */
export async function initLogs(pod: any): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const c of pod.spec.initContainers ?? []) {
    out.set(c.name, await kubectl(['logs', '-n', pod.metadata.namespace, pod.metadata.name, '-c', c.name]));
  }
  return out;
}

/** Applies a single object given as JSON-able data. */
export async function applyObject(o: object): Promise<void> {
  await apply(JSON.stringify(o));
}
