import * as kplus from 'cdk8s-plus-27';

/**
 * Where the pod spec sits in the workload's manifest, for JSON patches of
 * fields that cdk8s-plus-27 cannot express (terminationMessagePolicy, seccomp).
 */
export function podSpecPath(workload: kplus.AbstractPod): string {
  if (workload instanceof kplus.Pod) return '/spec';
  if (workload instanceof kplus.CronJob) return '/spec/jobTemplate/spec/template/spec';
  if (workload instanceof kplus.Workload) return '/spec/template/spec';
  throw new Error(`${workload.node.path}: unsupported workload type ${workload.constructor.name}`);
}

/**
 * Throws a clear error unless `target` is a cdk8s-plus pod-bearing workload
 * (Pod, Deployment, StatefulSet, Job, CronJob, DaemonSet).
 */
export function assertWorkload(owner: string, target: unknown): asserts target is kplus.AbstractPod {
  if (!(target instanceof kplus.AbstractPod)) {
    const what = describe(target);
    throw new Error(
      `${owner}: ${what} is not a pod-bearing workload; init steps attach to a cdk8s-plus ` +
      'Pod, Deployment, StatefulSet, Job, CronJob or DaemonSet',
    );
  }
}

function describe(target: unknown): string {
  if (target === null || target === undefined) return String(target);
  const node = (target as { node?: { path?: string } }).node;
  const kind = (target as object).constructor?.name ?? typeof target;
  return node?.path !== undefined ? `"${node.path}" (${kind})` : kind;
}
