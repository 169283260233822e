import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { InitStep, InitStepOptions } from '../init-step';
import { assertScriptVariables } from '../private/env';
import { assertGroupId, groupCanRead, requireAppCanRead } from '../private/file-readers';
import { BUSYBOX_IMAGE } from '../private/image';
import { literalEnv, literalValues } from '../private/kubelet-literal';
import { assertRelativePath, fileModeString } from '../private/mount-paths';
import { stepOwner } from '../private/step-values';
import { SharedVolume } from '../shared-volume';
import { shellCommand } from '../shell/scripts';

const DEST_MOUNT = '/var/run/cdk8s-init/out';

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
      assertGroupId(owner, props.group);
      if (!groupCanRead(props.mode ?? 0o440)) {
        throw new Error(`${owner}: mode ${mode} does not let group ${props.group} read the file; give a mode with group read, e.g. 0o440`);
      }
    }
    super(scope, id, {
      ...props,
      image: BUSYBOX_IMAGE,
      command: shellCommand('lib.sh', 'env-file.sh'),
      env: {
        // Written out as data: `$(NAME)` and `$$` in a literal value stay as they are.
        ...literalValues(props.variables),
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

  // The file belongs to the step's uid: an app of another uid reads it through the pod's fsGroup.
  protected onAddedTo(workload: kplus.AbstractPod): void {
    requireAppCanRead(this, workload, this.volume, [{ path: this.path, mode: this.mode }], this.group);
  }
}
