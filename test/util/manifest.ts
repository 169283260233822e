/**
 * Test helpers: synthesize charts, validate every object against the Kubernetes
 * OpenAPI schema (kubernetes-models), and check what the API server and the Pod
 * Security admission would reject.
 */
import { Chart, Testing } from 'cdk8s';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { rememberPod } from './container';
import { InitContainerPolicy } from '../../src';

type Json = any;

const MODELS: Record<string, new (data: Json) => { validate(): void }> = {
  'v1/Pod': core.Pod,
  'v1/Service': core.Service,
  'v1/ServiceAccount': core.ServiceAccount,
  'v1/ConfigMap': core.ConfigMap,
  'v1/Secret': core.Secret,
  'apps/v1/Deployment': apps.Deployment,
  'apps/v1/StatefulSet': apps.StatefulSet,
  'apps/v1/DaemonSet': apps.DaemonSet,
  'batch/v1/Job': batch.Job,
  'batch/v1/CronJob': batch.CronJob,
  'rbac.authorization.k8s.io/v1/Role': rbac.Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': rbac.RoleBinding,
  'networking.k8s.io/v1/NetworkPolicy': networking.NetworkPolicy,
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The pod spec inside any pod-bearing object, or undefined. */
export function podSpecOf(obj: Json): Json | undefined {
  switch (obj.kind) {
    case 'Pod': return obj.spec;
    case 'CronJob': return obj.spec.jobTemplate.spec.template.spec;
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'Job': return obj.spec.template.spec;
    default: return undefined;
  }
}

/** Schema validation plus the API-server rules kubernetes-models does not check. Returns problems. */
export function problemsOf(obj: Json): string[] {
  const problems: string[] = [];
  const model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!model) return [`no schema model for ${obj.apiVersion}/${obj.kind}`];
  try {
    new model(obj).validate();
  } catch (e) {
    problems.push(`${obj.kind} ${obj.metadata?.name}: schema: ${(e as Error).message}`);
  }
  const spec = podSpecOf(obj);
  if (spec) problems.push(...podSpecProblems(`${obj.kind} ${obj.metadata?.name}`, spec));
  return problems;
}

function podSpecProblems(where: string, spec: Json): string[] {
  const problems: string[] = [];
  const containers: Json[] = [...spec.initContainers ?? [], ...spec.containers ?? []];
  const volumes: Json[] = spec.volumes ?? [];
  const dup = (names: string[]) => names.filter((n, i) => names.indexOf(n) !== i);
  for (const n of dup(containers.map(c => c.name))) problems.push(`${where}: duplicate container name ${n}`);
  for (const n of dup(volumes.map(v => v.name))) problems.push(`${where}: duplicate volume name ${n}`);
  for (const n of [...containers.map(c => c.name), ...volumes.map(v => v.name)]) {
    if (!DNS1123_LABEL.test(n) || n.length > 63) problems.push(`${where}: ${n} is not a DNS-1123 label`);
  }
  for (const c of containers) {
    const mounts: Json[] = c.volumeMounts ?? [];
    for (const m of mounts) {
      if (!volumes.some(v => v.name === m.name)) problems.push(`${where}: ${c.name} mounts undeclared volume ${m.name}`);
    }
    for (const p of dup(mounts.map(m => m.mountPath))) problems.push(`${where}: ${c.name} has two mounts at ${p}`);
  }
  // The API server allows probes and lifecycle hooks on native sidecars (restartPolicy: Always) only.
  for (const c of (spec.initContainers ?? []).filter((i: Json) => i.restartPolicy !== 'Always')) {
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle']) {
      if (c[probe]) problems.push(`${where}: init container ${c.name} has ${probe}`);
    }
  }
  return problems;
}

/**
 * Init containers breaking the restricted profile or this project's defaults
 * (resources, pinned image, termination message policy, no literal secrets), as
 * the public policy check reports them; `allowWaived` accepts recorded opt-outs.
 */
export function policyProblems(objects: Json[], allowWaived: boolean): string[] {
  return InitContainerPolicy.checkManifests(objects)
    .filter(f => !(allowWaived && f.waived))
    .map(f => InitContainerPolicy.format([f]));
}

/** Synthesizes a chart, asserts every object is valid and every init container restricted, returns the objects. */
export function synthValid(chart: Chart, options: { restricted?: boolean } = {}): Json[] {
  const objects = Testing.synth(chart);
  const problems = objects.flatMap(problemsOf);
  if (options.restricted ?? true) {
    problems.push(...policyProblems(objects, false));
  }
  expect(problems).toEqual([]);
  return objects;
}

/** The init containers of the first pod-bearing object of a synthesized chart. */
export function initContainersOf(objects: Json[], kind?: string): Json[] {
  const obj = objects.find(o => podSpecOf(o) && (!kind || o.kind === kind));
  const spec = podSpecOf(obj);
  const containers: Json[] = spec?.initContainers ?? [];
  // runContainer then knows the pod's volumes and fsGroup.
  for (const c of [...containers, ...spec?.containers ?? []]) rememberPod(c, spec);
  return containers;
}
