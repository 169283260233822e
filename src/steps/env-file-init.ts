import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { InitStep, InitStepOptions } from '../init-step';
import { assertScriptVariables } from '../private/env';
import { BUSYBOX_IMAGE } from '../private/image';
import { literalEnv } from '../private/kubelet-literal';
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
   * File mode; the default keeps secrets from other users.
   *
   * @default 0o440
   */
  readonly mode?: number;
}

/**
 * Writes an env/config file into a `SharedVolume` from literal values, Downward
 * API fields and secret references, for apps that read settings from a file.
 * Values are quoted so that quotes, `$` and newlines read back exactly.
 */
export class EnvFileInit extends InitStep {
  /** The file's path in the volume. */
  public readonly path: string;

  constructor(scope: Construct, id: string, props: EnvFileInitProps) {
    const owner = stepOwner('EnvFileInit', scope, id);
    const names = Object.keys(props.variables ?? {});
    if (names.length === 0) throw new Error(`${owner}: give at least one variable`);
    assertScriptVariables(owner, 'variable name', names, ['ENVFILE_', 'FETCH_DEST']);
    const path = props.path ?? 'app.env';
    assertRelativePath(owner, 'path', path);
    const mode = fileModeString(owner, props.mode ?? 0o440);
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
  }
}
