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
 * Fills what `resources` leaves out from the defaults, so every step has CPU and
 * memory requests and a memory limit.
 */
export function withDefaultResources(resources: kplus.ContainerResources = {}): kplus.ContainerResources {
  const d = DEFAULT_STEP_RESOURCES;
  return {
    cpu: {
      request: resources.cpu?.request ?? d.cpu!.request,
      limit: resources.cpu?.limit,
    },
    memory: {
      request: resources.memory?.request ?? d.memory!.request,
      limit: resources.memory?.limit ?? d.memory!.limit,
    },
    ephemeralStorage: resources.ephemeralStorage,
  };
}
