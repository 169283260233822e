import { JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { SidecarOptions } from '../../init-step';

/**
 * cdk8s-plus-27: the line module of the line the library was designed on.
 * Its twin for lines 28 and later is `./plus-28`; both export the same names.
 */

/**
 * Patches for what this line renders wrong in a workload's pod spec (at `specPath`
 * of `json`, the workload's manifest). cdk8s-plus-27 needs none.
 */
export function podSpecRepairs(_workload: kplus.AbstractPod, _specPath: string, _json: any): JsonPatch[] {
  return [];
}

/**
 * The container props of a native sidecar step. cdk8s-plus-27 has no
 * container restartPolicy and refuses probes on init containers, so they are
 * the step's own; `sidecarPatches` adds the rest to the manifest.
 */
export function sidecarContainerProps(props: kplus.ContainerProps, _sidecar: SidecarOptions): kplus.ContainerProps {
  return props;
}

/**
 * What makes the init container at `at` (a JSON pointer into the workload's
 * manifest) a native sidecar: `restartPolicy: Always` and its probes.
 *
 * The workaround for cdk8s-plus-27, and the only one: its L1 objects keep only
 * fields of the Kubernetes 1.27 schema, after JSON patches are applied, so a
 * patch on the ApiObject is dropped. These patches are applied by the
 * workload's model to the manifest that filter has already produced
 * (`WorkloadInit`), so they reach the YAML. Probes are rendered by
 * cdk8s-plus's own `Probe`, as on later lines.
 */
export function sidecarPatches(at: string, container: kplus.Container, sidecar: SidecarOptions): JsonPatch[] {
  const probes: Array<[string, kplus.Probe | undefined]> = [
    ['startupProbe', sidecar.startupProbe], ['readinessProbe', sidecar.readinessProbe], ['livenessProbe', sidecar.livenessProbe],
  ];
  return [
    JsonPatch.add(`${at}/restartPolicy`, 'Always'),
    ...probes.filter(([, probe]) => probe !== undefined)
      .map(([field, probe]) => JsonPatch.add(`${at}/${field}`, kplus.k8s.toJson_Probe(probe!._toKube(container)))),
  ];
}
