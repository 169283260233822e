import { JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/**
 * cdk8s-plus-27: the line module for the line the library was designed on.
 * Its twin for lines 28 and later is `./plus-28`; both export the same names.
 */

/**
 * Patches for what this line renders wrong in a workload's pod spec (at `specPath`
 * of `json`, the workload's manifest). cdk8s-plus-27 needs none.
 */
export function podSpecRepairs(_workload: kplus.AbstractPod, _specPath: string, _json: any): JsonPatch[] {
  return [];
}
