import { JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/**
 * Where the pod spec sits in the workload's manifest, for the fields
 * cdk8s-plus-27 cannot express (terminationMessagePolicy, seccomp, fsGroup set
 * after construction, a projected token volume).
 */
export function podSpecPath(workload: kplus.AbstractPod): string {
  if (workload instanceof kplus.Pod) return '/spec';
  if (workload instanceof kplus.CronJob) return '/spec/jobTemplate/spec/template/spec';
  if (workload instanceof kplus.Workload) return '/spec/template/spec';
  throw new Error(`${workload.node.path}: unsupported workload type ${workload.constructor.name}`);
}

/** The value at a JSON pointer such as `/spec/template/spec`, or undefined. */
export function valueAt(json: any, pointer: string): any {
  return pointer.split('/').slice(1).reduce((v, key) => (v === undefined || v === null ? undefined : v[key]), json);
}

/**
 * The patches that give the container at `at` (a JSON pointer) the restricted
 * profile's fields cdk8s-plus-27 cannot express: seccomp RuntimeDefault and
 * capabilities dropping ALL (adding only `added`). They first test the
 * container's name, so a container someone else inserted at that index fails
 * synthesis instead of being hardened in its place.
 */
export function hardeningPatches(at: string, name: string, added: string[]): JsonPatch[] {
  return [
    JsonPatch.test(`${at}/name`, name),
    JsonPatch.add(`${at}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    JsonPatch.add(`${at}/securityContext/capabilities`, added.length > 0 ? { drop: ['ALL'], add: added } : { drop: ['ALL'] }),
  ];
}
