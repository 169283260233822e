import * as kplus from 'cdk8s-plus-27';
import { fileModeString } from './mount-paths';
import { WorkloadInit } from './workload-init';
import type { InitStep } from '../init-step';
import type { SharedVolume } from '../shared-volume';
import { DEFAULT_STEP_UID } from '../step-security';

/** The largest gid the API server accepts (an int32). */
const MAX_GID = 2147483647;

/** Read permission bits of a file mode. */
const GROUP_READ = 0o040;
const OTHER_READ = 0o004;

/** A file a step writes into a volume, with its mode. */
export interface WrittenFile {
  readonly path: string;
  readonly mode: number;
}

/** Whether `mode` has the permission `bit` (one bit of 0o777). */
export function hasBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

/** Fails, naming `owner`, unless `group` is a gid the API server accepts. */
export function assertGroupId(owner: string, group: number): void {
  if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group > MAX_GID) {
    throw new Error(`${owner}: group ${String(group)} is not a valid gid; give an integer from 0 to ${MAX_GID}`);
  }
}

/** Whether `mode` lets the file's group read it. */
export function groupCanRead(mode: number): boolean {
  return hasBit(mode, GROUP_READ);
}

/**
 * Makes sure the app containers of `workload` can read the files `step`
 * writes into `volume`. The files belong to the step's uid, so an app of
 * another uid reads a file without the others-read bit only through its group:
 * the pod needs an fsGroup (the kubelet makes the volume group-owned by it,
 * setgid, so new files get that group, and every container has it). With
 * `group` that fsGroup is required; otherwise the pod's own (or one another
 * step requires) is used, else the one run-as group of the app containers
 * that mount the volume. When none is known, synthesis fails naming the fixes.
 */
export function requireAppCanRead(
  step: InitStep, workload: kplus.AbstractPod, volume: SharedVolume, files: WrittenFile[], group?: number,
): void {
  const model = WorkloadInit.of(workload);
  if (group !== undefined) {
    model.requireFsGroup(step, group);
    return;
  }
  // Others may read them, or the mode keeps a file to the step's uid on purpose: no group helps.
  const groupOnly = files.filter(f => !hasBit(f.mode, OTHER_READ) && hasBit(f.mode, GROUP_READ));
  if (groupOnly.length === 0 || podFsGroup(workload) !== undefined) return;
  const uid = step.security.context.user ?? DEFAULT_STEP_UID;
  const readers = readersOf(step, workload, volume);
  if (readers.length > 0 && readers.every(c => (c.securityContext.user ?? workload.securityContext.user) === uid)) return;
  const groups = readerGroups(workload, readers);
  if (groups.length === 1) {
    model.requireFsGroup(step, groups[0]);
    return;
  }
  // A step added later may still give the pod an fsGroup: decide on the complete pod.
  step.node.addValidation({
    validate: () => podFsGroup(workload) !== undefined ? [] : [unreadable(step, workload, volume, groupOnly[0], uid)],
  });
}

/** The pod's fsGroup: the workload's own, or the one a step of it needs. */
function podFsGroup(workload: kplus.AbstractPod): number | undefined {
  return workload.securityContext.fsGroup ?? WorkloadInit.find(workload)?.requiredFsGroup;
}

/** The workload's app containers that mount `volume`. */
function readersOf(step: InitStep, workload: kplus.AbstractPod, volume: SharedVolume): kplus.Container[] {
  return workload.containers.filter(c => c.name !== step.name && c.mounts.some(m => m.volume.name === volume.name));
}

/** The distinct run-as groups of `containers` (a container's own, else the pod's), sorted. */
function readerGroups(workload: kplus.AbstractPod, containers: kplus.Container[]): number[] {
  const groups = containers.map(c => c.securityContext.group ?? workload.securityContext.group);
  return [...new Set(groups.filter((g): g is number => g !== undefined))].sort((a, b) => a - b);
}

function unreadable(step: InitStep, workload: kplus.AbstractPod, volume: SharedVolume, file: WrittenFile, uid: number): string {
  const readers = readersOf(step, workload, volume);
  const groups = readerGroups(workload, readers);
  let why: string;
  if (readers.length === 0) {
    why = `no app container mounts volume "${volume.name}", so no group to give it is known`;
  } else if (groups.length === 0) {
    why = `the app containers that mount volume "${volume.name}" (${readers.map(c => c.name).join(', ')}) set no run-as group`;
  } else if (groups.length === 1) {
    // Mounted after the step was added: the group was not known then.
    why = `the app containers that mount volume "${volume.name}" run as group ${groups[0]}, but mounted it after the step was added`;
  } else {
    why = `the app containers that mount volume "${volume.name}" run as different groups (${groups.join(', ')})`;
  }
  return `${step.constructor.name} ${step.node.path}: the app in workload ${workload.node.path} could not read ${volume.name}/${file.path}, ` +
    `a file owned by uid ${uid} with mode ${fileModeString('', file.mode)}: the pod has no fsGroup and ${why}. ` +
    `Give the step a \`group\` (the app's gid${groups.length === 1 ? `, e.g. group: ${groups[0]}` : ''}; it becomes the pod's fsGroup), ` +
    'set the workload\'s securityContext.fsGroup, or give a mode readable by others (e.g. 0o444)';
}
