import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { InitStep, InitStepOptions } from '../init-step';
import { assertScriptVariables } from '../private/env';
import { BUSYBOX_IMAGE } from '../private/image';
import { literalEnv } from '../private/kubelet-literal';
import { assertRelativePath, fileModeString } from '../private/mount-paths';
import { stepOwner } from '../private/step-values';
import { WorkloadInit } from '../private/workload-init';
import { SharedVolume } from '../shared-volume';
import { shellCommand } from '../shell/scripts';
import { DEFAULT_STEP_UID } from '../step-security';

const DEST_MOUNT = '/var/run/cdk8s-init/out';

/** The largest gid the API server accepts (an int32). */
const MAX_ID = 2147483647;

/** Read permission bits of a file mode. */
const GROUP_READ = 0o040;
const OTHER_READ = 0o004;

/**
 * Syntax of a generated env file.
 */
export enum EnvFileFormat {
  /** `export NAME='value'`: sourceable by sh and bash; any value reads back exactly. */
  SHELL = 'shell',
  /** `NAME="value"` with `\\`, `\"`, `\$` and `\n` escapes, for dotenv readers. */
  DOTENV = 'dotenv',
}

/**
 * Properties of an `EnvFileInit` step.
 */
export interface EnvFileInitProps extends InitStepOptions {
  /** The volume to write to. */
  readonly volume: SharedVolume;

  /**
   * File path in the volume.
   *
   * @default "app.env"
   */
  readonly path?: string;

  /**
   * Variables, in order: literal values, Downward API fields
   * (`EnvValue.fromFieldRef(EnvFieldPaths.POD_IP)`, `EnvValue.fromResource(...)`)
   * and secrets (`EnvValue.fromSecretValue`). Names are upper case, and not
   * ones the shell or the step's script owns (PATH, IFS, RANDOM, PPID, ...).
   */
  readonly variables: { [name: string]: kplus.EnvValue };

  /**
   * Syntax.
   *
   * @default EnvFileFormat.SHELL
   */
  readonly format?: EnvFileFormat;

  /**
   * File mode; the default keeps secrets from other users. The file belongs to
   * the step's uid (65532 unless `security` says otherwise), so an app running
   * as another uid reads it through its group: see `group`. A mode without
   * group or other read bits keeps it to the step's uid.
   *
   * @default 0o440
   */
  readonly mode?: number;

  /**
   * The group that reads the file: it becomes the pod's `fsGroup`, so the
   * kubelet makes the volume group-owned by it (setgid), the file gets that
   * group, and every container of the pod has it as a supplementary group.
   * An integer from 0 to 2147483647; fails at synth time when the workload or
   * another step needs a different fsGroup.
   *
   * @default - the pod's fsGroup if it has one (the workload's own, or one
   * another step of it needs); else the one run-as group (`securityContext.group`,
   * or the pod's) of the app containers that mount `volume`; none when `mode`
   * lets others read. Without any of these synthesis fails, as the app could not
   * read the file.
   */
  readonly group?: number;
}

/**
 * Writes an env/config file into a `SharedVolume` from literal values, Downward
 * API fields and secret references, for apps that read settings from a file.
 * Values are quoted so that quotes, `$` and newlines read back exactly.
 */
export class EnvFileInit extends InitStep {
  /** The file's path in the volume. */
  public readonly path: string;

  /** The file mode. */
  public readonly mode: number;

  /**
   * The group given to read the file (the pod's fsGroup).
   *
   * @default - chosen per workload: see `EnvFileInitProps.group`
   */
  public readonly group?: number;

  private readonly volume: SharedVolume;

  constructor(scope: Construct, id: string, props: EnvFileInitProps) {
    const owner = stepOwner('EnvFileInit', scope, id);
    const names = Object.keys(props.variables ?? {});
    if (names.length === 0) throw new Error(`${owner}: give at least one variable`);
    assertScriptVariables(owner, 'variable name', names, ['ENVFILE_', 'FETCH_DEST']);
    const path = props.path ?? 'app.env';
    assertRelativePath(owner, 'path', path);
    const mode = fileModeString(owner, props.mode ?? 0o440);
    if (props.group !== undefined) {
      const group = props.group;
      if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group > MAX_ID) {
        throw new Error(`${owner}: group ${String(group)} is not a valid gid; give an integer from 0 to ${MAX_ID}`);
      }
      if (!hasBit(props.mode ?? 0o440, GROUP_READ)) {
        throw new Error(`${owner}: mode ${mode} does not let group ${group} read the file; give a mode with group read, e.g. 0o440`);
      }
    }
    super(scope, id, {
      ...props,
      image: BUSYBOX_IMAGE,
      command: shellCommand('lib.sh', 'env-file.sh'),
      env: {
        ...props.variables,
        FETCH_DEST: literalEnv(DEST_MOUNT),
        ENVFILE_PATH: literalEnv(path),
        ENVFILE_FORMAT: literalEnv(props.format ?? EnvFileFormat.SHELL),
        ENVFILE_VARS: literalEnv(names.join(' ')),
        ENVFILE_MODE: literalEnv(mode),
      },
      writes: [{ volume: props.volume, path: DEST_MOUNT }],
      description: `writes ${names.join(', ')} to ${props.volume.name}/${path}`,
    });
    this.path = path;
    this.mode = props.mode ?? 0o440;
    this.group = props.group;
    this.volume = props.volume;
  }

  // The file belongs to the step's uid: an app running as another uid reads it
  // only through the group, so the pod needs an fsGroup, unless others may read it.
  protected onAddedTo(workload: kplus.AbstractPod): void {
    const model = WorkloadInit.of(workload);
    if (this.group !== undefined) {
      model.requireFsGroup(this, this.group);
      return;
    }
    // Others may read it, or the mode keeps it to the step's uid: no group helps.
    if (hasBit(this.mode, OTHER_READ) || !hasBit(this.mode, GROUP_READ)) return;
    if (podFsGroup(workload) !== undefined) return;
    const readers = this.readers(workload);
    if (readers.length > 0 && readers.every(c => (c.securityContext.user ?? workload.securityContext.user) === this.uid)) return;
    const groups = readerGroups(workload, readers);
    if (groups.length === 1) {
      model.requireFsGroup(this, groups[0]);
      return;
    }
    // A step added later may still give the pod an fsGroup: decide on the complete pod.
    this.node.addValidation({
      validate: () => podFsGroup(workload) !== undefined ? [] : [this.unreadable(workload)],
    });
  }

  /** The step's uid, which owns the file. */
  private get uid(): number {
    return this.security.context.user ?? DEFAULT_STEP_UID;
  }

  /** The workload's app containers that mount the step's volume. */
  private readers(workload: kplus.AbstractPod): kplus.Container[] {
    return workload.containers.filter(c => c.name !== this.name && c.mounts.some(m => m.volume.name === this.volume.name));
  }

  private unreadable(workload: kplus.AbstractPod): string {
    const readers = this.readers(workload);
    const groups = readerGroups(workload, readers);
    const file = `${this.volume.name}/${this.path}`;
    const mode = fileModeString('', this.mode);
    let why: string;
    if (readers.length === 0) {
      why = `no app container mounts volume "${this.volume.name}", so no group to give it is known`;
    } else if (groups.length === 0) {
      why = `the app containers that mount volume "${this.volume.name}" (${readers.map(c => c.name).join(', ')}) set no run-as group`;
    } else if (groups.length === 1) {
      // Mounted after the step was added: the group was not known then.
      why = `the app containers that mount volume "${this.volume.name}" run as group ${groups[0]}, but mounted it after the step was added`;
    } else {
      why = `the app containers that mount volume "${this.volume.name}" run as different groups (${groups.join(', ')})`;
    }
    return `EnvFileInit ${this.node.path}: the app in workload ${workload.node.path} could not read ${file}, ` +
      `a file owned by uid ${this.uid} with mode ${mode}: the pod has no fsGroup and ${why}. ` +
      `Give the step a \`group\` (the app's gid${groups.length === 1 ? `, e.g. group: ${groups[0]}` : ''}; it becomes the pod's fsGroup), ` +
      'set the workload\'s securityContext.fsGroup, or give a mode readable by others (e.g. 0o444)';
  }
}

/** The pod's fsGroup: the workload's own, or the one a step of it needs. */
function podFsGroup(workload: kplus.AbstractPod): number | undefined {
  return workload.securityContext.fsGroup ?? WorkloadInit.find(workload)?.requiredFsGroup;
}

/** The distinct run-as groups of `containers` (a container's own, else the pod's), sorted. */
function readerGroups(workload: kplus.AbstractPod, containers: kplus.Container[]): number[] {
  const groups = containers.map(c => c.securityContext.group ?? workload.securityContext.group);
  return [...new Set(groups.filter((g): g is number => g !== undefined))].sort((a, b) => a - b);
}

/** Whether `mode` has the permission `bit` (one bit of 0o777). */
function hasBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}
