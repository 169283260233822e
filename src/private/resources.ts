import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/**
 * Small, explicit defaults for init steps.
 *
 * cdk8s-plus would give every container a 1 CPU request; for init containers the
 * pod's effective request is the max over them, so a 1-CPU wait step would raise
 * the whole pod's scheduling request. No CPU limit: throttling only slows start-up.
 */
export const DEFAULT_STEP_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(50) },
  memory: { request: Size.mebibytes(32), limit: Size.mebibytes(64) },
};

/**
 * Fills what `resources` leaves out, field by field, from `defaults` (the step
 * defaults unless a step has its own, such as a migration tool's or a proxy's),
 * so every step has CPU and memory requests and a memory limit.
 */
export function withDefaultResources(
  resources: kplus.ContainerResources = {},
  defaults: kplus.ContainerResources = DEFAULT_STEP_RESOURCES,
): kplus.ContainerResources {
  return {
    cpu: {
      request: resources.cpu?.request ?? defaults.cpu?.request,
      limit: resources.cpu?.limit ?? defaults.cpu?.limit,
    },
    memory: {
      request: resources.memory?.request ?? defaults.memory?.request,
      limit: resources.memory?.limit ?? defaults.memory?.limit,
    },
    ephemeralStorage: resources.ephemeralStorage,
  };
}
