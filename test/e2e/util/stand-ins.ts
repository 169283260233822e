/**
 * Stand-in dependencies for the examples: real servers in pods, behind the
 * Services the examples declare. Those Services have no selector, so each
 * stand-in gets hand-made Endpoints, as an operator would point such a Service
 * at a database outside the cluster's control.
 */
import { apply, getJson, kubectl, waitFor } from './kube';

/** The stand-in images (test/e2e/images/build.sh). */
export const TOOLS_IMAGE = 'docker.io/library/e2e-tools:1';
export const POSTGRES_IMAGE = 'docker.io/library/postgres:15';

/** A stand-in pod, Running with an IP. */
export interface StandIn {
  readonly namespace: string;
  readonly pod: string;
  readonly ip: string;
}

function podManifest(namespace: string, name: string, spec: object): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'e2e.cdk8s-init.io/stand-in': name } },
    spec: { terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, ...spec },
  });
}

async function runningPod(namespace: string, name: string, manifest: string): Promise<StandIn> {
  await apply(manifest);
  const ip = await waitFor(`stand-in pod ${namespace}/${name} to be Ready`, 120_000, async () => {
    const pod = await getJson(['pod', '-n', namespace, name]);
    const ready = (pod.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    return ready ? pod.status.podIP as string : undefined;
  });
  return { namespace, pod: name, ip };
}

/** Points the selector-less Service `service` at `ip:port`. */
export async function endpoints(namespace: string, service: string, ip: string, port: number): Promise<void> {
  const svc = await getJson(['service', '-n', namespace, service]);
  const named = (svc.spec.ports.find((p: any) => p.port === port) ?? svc.spec.ports[0])?.name;
  await apply(JSON.stringify({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: service, namespace },
    subsets: [{ addresses: [{ ip }], ports: [{ port, ...(named ? { name: named } : {}) }] }],
  }));
}

/** Removes a Service's Endpoints: its clients then get "Connection refused" (no endpoint behind the cluster IP). */
export async function removeEndpoints(namespace: string, service: string): Promise<void> {
  await kubectl(['delete', 'endpoints', '-n', namespace, service, '--ignore-not-found']);
}

/** The first port of a Service. */
export async function servicePort(namespace: string, service: string): Promise<number> {
  return (await getJson(['service', '-n', namespace, service])).spec.ports[0].port;
}

/**
 * A real PostgreSQL (Debian's server, in a stand-in image) with TLS and trust
 * authentication, behind `service`.
 */
export async function postgresBehind(namespace: string, service: string, database = 'postgres', user = 'postgres'): Promise<StandIn> {
  const name = `stand-in-${service}`.slice(0, 63).replace(/-+$/, '');
  const standIn = await runningPod(namespace, name, podManifest(namespace, name, {
    securityContext: { runAsUser: 999, runAsGroup: 999, fsGroup: 999 },
    containers: [{
      name: 'postgres',
      image: POSTGRES_IMAGE,
      env: [{ name: 'POSTGRES_DB', value: database }, { name: 'POSTGRES_USER', value: user }],
      ports: [{ containerPort: 5432 }],
      readinessProbe: { tcpSocket: { port: 5432 }, periodSeconds: 1 },
      volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }],
    }],
    volumes: [{ name: 'data', emptyDir: {} }],
  }));
  await endpoints(namespace, service, standIn.ip, await servicePort(namespace, service));
  return standIn;
}

/** An HTTP server (busybox httpd) answering 200 on `/healthz` at the Service's port, behind `service`. */
export async function httpBehind(namespace: string, service: string): Promise<StandIn> {
  const port = await servicePort(namespace, service);
  const name = `stand-in-${service}`.slice(0, 63).replace(/-+$/, '');
  const standIn = await runningPod(namespace, name, podManifest(namespace, name, {
    containers: [{
      name: 'http',
      image: TOOLS_IMAGE,
      command: ['sh', '-c', `mkdir -p /tmp/www && echo ok >/tmp/www/healthz && exec httpd -f -p ${port} -h /tmp/www`],
      ports: [{ containerPort: port }],
      readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
    }],
  }));
  await endpoints(namespace, service, standIn.ip, port);
  return standIn;
}

/** Creates or replaces a Secret from string values. */
export async function secret(namespace: string, name: string, data: Record<string, string>): Promise<void> {
  await apply(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: data }));
}
