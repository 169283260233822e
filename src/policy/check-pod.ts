import type { PolicyFinding } from './init-container-policy';
import { ContainerKind, containerRules, initContainerRules, isSidecar, PodView, podRules, RawFinding } from './rules';
import { isWaived, waiverKey } from '../private/waivers';

type Json = any;

/** The pod template of each pod-bearing kind. */
export function podOf(obj: Json): PodView | undefined {
  const template = (t: Json) => t && { spec: t.spec ?? {}, annotations: t.metadata?.annotations ?? {} };
  switch (obj?.kind) {
    case 'Pod': return { spec: obj.spec ?? {}, annotations: obj.metadata?.annotations ?? {} };
    case 'PodTemplate': return template(obj.template);
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'ReplicationController': case 'Job':
      return template(obj.spec?.template);
    case 'CronJob': return template(obj.spec?.jobTemplate?.spec?.template);
    default: return undefined;
  }
}

/** Findings for one pod, without the workload name. */
export function checkPod(pod: PodView, wholePod: boolean): Array<Omit<PolicyFinding, 'workload'>> {
  const spec = pod.spec;
  // In the order of the pod spec; a native sidecar is checked as the long-running init container it is.
  const checked: Array<[ContainerKind, Json]> = [
    ...(spec.initContainers ?? []).map((c: Json): [ContainerKind, Json] => [isSidecar(c) ? 'sidecar' : 'init', c]),
    ...(wholePod ? spec.containers ?? [] : []).map((c: Json): [ContainerKind, Json] => ['app', c]),
    ...(spec.ephemeralContainers ?? []).map((c: Json): [ContainerKind, Json] => ['ephemeral', c]),
  ];
  const hasChecked = checked.length > 0;
  const finding = (container: string | undefined, containerKind: ContainerKind | undefined, f: RawFinding) => {
    const podSecurity = f.level !== undefined && wholePod;
    return {
      container,
      containerKind,
      rule: f.rule,
      podSecurityLevel: f.level,
      message: f.message,
      fix: f.fix,
      waiver: waiverKey(container, f.rule, f.item),
      waived: !podSecurity && isWaived(pod.annotations, container, f.rule, f.item),
    };
  };
  return [
    // The pod's own fields matter to its init containers too (they share its namespaces and volumes).
    ...(wholePod || hasChecked ? podRules(pod) : []).map(f => finding(undefined, undefined, f)),
    ...checked.flatMap(([kind, c]) => [
      ...containerRules(c, pod),
      ...kind === 'init' || kind === 'sidecar' ? initContainerRules(c) : [],
    ].map(f => finding(c.name, kind, f))),
  ];
}

