import { JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { SidecarOptions } from '../../init-step';
import { valueAt } from '../pod-spec-path';

/**
 * cdk8s-plus-28 and later: the line module of every line after the design line.
 * Not part of the cdk8s-plus-27 build (it uses APIs 27 lacks); the build of each
 * later line puts it in place of `./plus-27`, with that line's cdk8s-plus.
 */

/**
 * Patches for what this line renders wrong in a workload's pod spec (at `specPath`
 * of `json`, the workload's manifest).
 *
 * A StatefulSet without volumeClaimTemplates loses every pod volume in
 * cdk8s-plus-32, 33 and 34 (`_filterPodSpecVolumes` returns undefined:
 * cdk8s-team/cdk8s-plus#6735), so its containers mount undeclared volumes and
 * the API server rejects it. The volumes are put back as cdk8s-plus's own pod
 * rendering declares them, less the claim templates' names.
 */
export function podSpecRepairs(workload: kplus.AbstractPod, specPath: string, json: any): JsonPatch[] {
  if (!(workload instanceof kplus.StatefulSet)) return [];
  const spec = valueAt(json, specPath);
  const rendered: any[] | undefined = (kplus.AbstractPod.prototype as any)._toPodSpec.call(workload).volumes;
  const claimed = new Set(((workload as any).volumeClaimTemplates ?? []).map((t: { name: string }) => t.name));
  const volumes = (rendered ?? []).filter(v => !claimed.has(v.name));
  if (volumes.length === 0 || spec?.volumes !== undefined) return [];
  // As the workload's manifest has them: the L1 JSON form, keys in order.
  return [JsonPatch.add(`${specPath}/volumes`, volumes.map(v => kplus.k8s.toJson_Volume(v)))];
}

/** The container props of a native sidecar step: the line's own restartPolicy and probes. */
export function sidecarContainerProps(props: kplus.ContainerProps, sidecar: SidecarOptions): kplus.ContainerProps {
  return {
    ...props,
    restartPolicy: kplus.ContainerRestartPolicy.ALWAYS,
    startup: sidecar.startupProbe,
    readiness: sidecar.readinessProbe,
    liveness: sidecar.livenessProbe,
  };
}

/** Nothing: this line renders a sidecar's restartPolicy and probes itself (`sidecarContainerProps`). */
export function sidecarPatches(_at: string, _container: kplus.Container, _sidecar: SidecarOptions): JsonPatch[] {
  return [];
}
