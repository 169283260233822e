/**
 * Helpers of the examples' e2e tests: stand-ins for the Services they declare,
 * the app stand-in's summary, and re-runs of a pod's init sequence.
 */
import { getJson, killSandbox, kubectl, logs, waitFor } from './kube';
import { httpBehind, postgresBehind } from './stand-ins';
import { KubeObject, workloadPod, workloadReady } from './workloads';

/** The examples' Services without a selector: each gets a stand-in of the kind its port suggests. */
export async function standInsFor(objects: KubeObject[], database?: { name: string; user: string }): Promise<void> {
  const services = objects.filter(o => o.kind === 'Service' && Object.keys(o.spec.selector ?? {}).length === 0 && o.spec.clusterIP !== 'None');
  await Promise.all(services.map(s => s.spec.ports[0].port === 5432
    ? postgresBehind(s.metadata.namespace!, s.metadata.name, database?.name, database?.user)
    : httpBehind(s.metadata.namespace!, s.metadata.name)));
}

/** The object of `kind` whose name contains `nameIncludes` (cdk8s adds a hash), or fails. */
export function workload(objects: KubeObject[], kind: string, nameIncludes = ''): KubeObject {
  const found = objects.find(o => o.kind === kind && o.metadata.name.includes(nameIncludes));
  if (!found) throw new Error(`no ${kind} ${nameIncludes}`);
  return found;
}

/** The app container's stand-in log: its summary line, once it has checked every mount. */
export async function appSummary(pod: any, container: string): Promise<string> {
  return waitFor(`the app stand-in in ${pod.metadata.name} to check its volumes`, 30_000, async () => {
    const text = await logs(pod.metadata.namespace, pod.metadata.name, container);
    return /app: read \d+ files/.test(text) ? text : undefined;
  });
}

/** A pod's restart of its init sequence after its sandbox was killed, waited until Ready again. */
export async function rerunInSamePod(o: KubeObject, pod: any): Promise<any> {
  const firstInit = pod.spec.initContainers[0].name;
  await killSandbox(pod);
  await waitFor(`pod ${pod.metadata.name} to run its init sequence again`, 120_000, async () => {
    const live = await getJson(['pod', '-n', pod.metadata.namespace, pod.metadata.name]);
    const first = live.status.initContainerStatuses?.find((s: any) => s.name === firstInit);
    return first?.restartCount > 0 || undefined;
  });
  await workloadReady(o);
  return getJson(['pod', '-n', pod.metadata.namespace, pod.metadata.name]);
}

/** Deletes a workload's pod and waits for its replacement to be Ready. */
export async function replacePod(o: KubeObject, pod: any): Promise<any> {
  await getJson(['pod', '-n', pod.metadata.namespace, pod.metadata.name]);
  await kubectl(['delete', 'pod', '-n', pod.metadata.namespace, pod.metadata.name, '--wait=false']);
  const next = await waitFor(`a new pod of ${o.metadata.name}`, 120_000, async () => {
    const p = await workloadPod(o).catch(() => undefined);
    return p && p.metadata.uid !== pod.metadata.uid ? p : undefined;
  });
  await workloadReady(o);
  return getJson(['pod', '-n', next.metadata.namespace, next.metadata.name]);
}
