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
