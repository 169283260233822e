import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { podSpecPath } from './pod-spec-path';
import { InitStep } from '../init-step';
import { pathsOverlap } from '../mount-paths';
import { SharedVolume } from '../shared-volume';

/** Pod annotation prefix recording why a step left the restricted profile. */
export const OPT_OUT_ANNOTATION_PREFIX = 'security.cdk8s-init.io/';

const STATES = new WeakMap<kplus.AbstractPod, WorkloadInit>();

/**
 * What cdk8s-init knows about one workload: the steps applied to it, in order,
 * and which shared volumes they write. Created on first use; it registers a
 * validation on the workload for the rules that need the finished pod.
 */
export class WorkloadInit {
  /** The state of `workload`, created on first use. */
  public static of(workload: kplus.AbstractPod): WorkloadInit {
    let state = STATES.get(workload);
    if (!state) {
      state = new WorkloadInit(workload);
      STATES.set(workload, state);
    }
    return state;
  }

  /** The state of `workload`, if any step was added to it. */
  public static find(workload: kplus.AbstractPod): WorkloadInit | undefined {
    return STATES.get(workload);
  }

  /** Steps applied, in order. */
  public readonly steps: InitStep[] = [];
  private readonly volumesByName = new Map<string, SharedVolume>();
  private readonly specPath: string;

  private constructor(private readonly workload: kplus.AbstractPod) {
    this.specPath = podSpecPath(workload);
    workload.node.addValidation({ validate: () => this.validate() });
  }

  /** Adds `step`, after its prerequisites, as the next init container(s) of the workload. */
  public apply(step: InitStep): void {
    for (const before of step.prerequisites) this.apply(before);
    this.add(step, 'initContainers');
  }

  /**
   * Adds `step` as a main container (after its prerequisites as init containers),
   * with the same checks, security and termination-message settings as init steps.
   */
  public applyAsMain(step: InitStep): void {
    for (const before of step.prerequisites) this.apply(before);
    this.add(step, 'containers');
  }

  private add(step: InitStep, list: 'initContainers' | 'containers'): void {
    const where = `workload ${this.workload.node.path}`;
    const owner = `${step.constructor.name} ${step.node.path}`;
    if (this.steps.includes(step)) {
      throw new Error(`${owner}: this step is already in the init sequence of ${where}; a step runs once per pod`);
    }
    const clash = [...this.workload.initContainers, ...this.workload.containers].find(c => c.name === step.name);
    if (clash) {
      throw new Error(`${owner}: container name "${step.name}" is already used in ${where}; give the step a unique id or name`);
    }
    for (const m of [...step.reads, ...step.writes]) this.claimVolumeName(owner, m.volume);
    for (const r of step.reads) {
      if (!r.volume.prePopulated && !r.volume._isWrittenIn(this.workload)) {
        throw new Error(
          `${owner}: reads volume "${r.volume.name}" but no earlier step in ${where} writes it; ` +
          'add a step that writes it before this one, or mark the volume prePopulated',
        );
      }
    }

    const props = step.toContainerProps();
    const container = list === 'initContainers' ? this.workload.addInitContainer(props) : this.workload.addContainer(props);
    this.patchContainer(`${list}/${this.workload[list].indexOf(container)}`, step);
    for (const w of step.writes) w.volume._markWrittenIn(this.workload);
    if (!step.security.isRestricted) {
      this.workload.podMetadata.addAnnotation(OPT_OUT_ANNOTATION_PREFIX + step.name, step.security.optOutReason!);
    }
    if (list === 'initContainers') this.steps.push(step);
    step._notifyAddedTo(this.workload);
  }

  /** Sets a field of the pod spec in the synthesized manifest. */
  public patchPodSpec(field: string, value: unknown): void {
    ApiObject.of(this.workload).addJsonPatch(JsonPatch.add(`${this.specPath}/${field}`, value));
  }

  // cdk8s-plus-27 cannot set these container fields; patch the synthesized manifest.
  private patchContainer(container: string, step: InitStep): void {
    const path = `${this.specPath}/${container}`;
    const added = step.security.addedCapabilities;
    const capabilities = added.length > 0 ? { drop: ['ALL'], add: added } : { drop: ['ALL'] };
    ApiObject.of(this.workload).addJsonPatch(
      JsonPatch.add(`${path}/terminationMessagePolicy`, 'FallbackToLogsOnError'),
      JsonPatch.add(`${path}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
      JsonPatch.add(`${path}/securityContext/capabilities`, capabilities),
    );
  }

  private claimVolumeName(owner: string, volume: SharedVolume): void {
    const existing = this.volumesByName.get(volume.name);
    if (existing && existing !== volume) {
      throw new Error(
        `${owner}: volume name "${volume.name}" is used by two shared volumes ` +
        `(${existing.node.path} and ${volume.node.path}) in workload ${this.workload.node.path}`,
      );
    }
    this.volumesByName.set(volume.name, volume);
  }

  /** Rules that need the whole pod, including main containers added later. */
  private validate(): string[] {
    const errors: string[] = [];
    const containers = [...this.workload.initContainers, ...this.workload.containers];
    const seen = new Set<string>();
    for (const c of containers) {
      if (seen.has(c.name)) errors.push(`container name "${c.name}" is used twice; container names must be unique in a pod`);
      seen.add(c.name);
    }
    for (const c of this.workload.containers) {
      errors.push(...this.validateMountPaths(c));
    }
    errors.push(...this.validateVolumeNames(containers));
    return errors;
  }

  private validateMountPaths(container: kplus.Container): string[] {
    const paths = container.mounts.map(m => m.path);
    return paths.flatMap((p, i) => paths.slice(i + 1)
      .filter(other => pathsOverlap(p, other))
      .map(other => `container "${container.name}" has overlapping mounts at "${p}" and "${other}"`));
  }

  private validateVolumeNames(containers: kplus.Container[]): string[] {
    const byName = new Map<string, kplus.Volume>();
    const errors: string[] = [];
    const volumes = [...this.workload.volumes, ...containers.flatMap(c => c.mounts.map(m => m.volume))];
    for (const v of volumes) {
      const other = byName.get(v.name);
      if (other && other !== v) errors.push(`two different volumes are named "${v.name}"; volume names must be unique in a pod`);
      byName.set(v.name, v);
    }
    return [...new Set(errors)];
  }
}
