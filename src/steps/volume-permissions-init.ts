import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { InitStep, InitStepOptions } from '../init-step';
import { BUSYBOX_IMAGE } from '../private/image';
import { literalEnv } from '../private/kubelet-literal';
import { fileModeString } from '../private/mount-paths';
import { stepOwner } from '../private/step-values';
import { WorkloadInit } from '../private/workload-init';
import { SharedVolume } from '../shared-volume';
import { shellCommand } from '../shell/scripts';
import { StepSecurity } from '../step-security';

const TARGET_MOUNT = '/var/run/cdk8s-init/volume';

/**
 * How `VolumePermissionsInit` makes a volume usable.
 */
export enum VolumePermissionStrategy {
  /** FS_GROUP when only a group is needed (no `user`), else CHOWN. */
  AUTO = 'auto',
  /**
   * Set the pod's `fsGroup` (the kubelet makes the volume group-writable; no
   * root needed). The step then only checks that it took effect: hostPath and
   * some NFS volumes ignore fsGroup.
   */
  FS_GROUP = 'fs-group',
  /**
   * `chown -R` and `chmod`, as root with only the CHOWN, FOWNER and
   * DAC_READ_SEARCH capabilities (and FSETID when `mode` has a setuid or setgid
   * bit, which the kernel would silently drop without it). DAC_READ_SEARCH lets
   * it traverse directories it may not read, such as the 0700 root a previous
   * run left, or existing PostgreSQL data.
   */
  CHOWN = 'chown',
}

/**
 * Properties of a `VolumePermissionsInit` step.
 */
export interface VolumePermissionsInitProps extends InitStepOptions {
  /** The volume. */
  readonly volume: SharedVolume;

  /**
   * Owner uid the app needs. Giving it means a real chown (with AUTO).
   *
   * @default - ownership is not changed; the group is enough
   */
  readonly user?: number;

  /** Group the app runs with (its runAsGroup or a supplemental group). */
  readonly group: number;

  /**
   * Mode of the volume's root directory (CHOWN only). Nested files and
   * directories keep their modes.
   *
   * @default 0o770
   */
  readonly mode?: number;

  /**
   * How to do it.
   *
   * @default VolumePermissionStrategy.AUTO
   */
  readonly strategy?: VolumePermissionStrategy;
}

/**
 * Makes a volume writable for the app's uid/gid.
 *
 * Where the pod's `fsGroup` suffices (the app needs group access, not a specific
 * owner) it is chosen automatically: no root, and the step only verifies it took
 * effect. Where a real chown is needed, the step runs as root with only the CHOWN,
 * FOWNER and DAC_READ_SEARCH capabilities (plus FSETID for a setuid/setgid
 * `mode`): an explicit, recorded opt-out of the restricted profile for this one
 * step. It is idempotent: re-runs on the volume it left, and volumes already
 * holding data of another owner, work.
 */
export class VolumePermissionsInit extends InitStep {
  /** The strategy chosen. */
  public readonly strategy: VolumePermissionStrategy;
  /** The group. */
  public readonly group: number;

  constructor(scope: Construct, id: string, props: VolumePermissionsInitProps) {
    const owner = stepOwner('VolumePermissionsInit', scope, id);
    const id32 = (what: string, v?: number) => {
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 2147483647)) throw new Error(`${owner}: ${what} ${v} is not a valid id`);
    };
    id32('user', props.user);
    id32('group', props.group);
    const mode = fileModeString(owner, props.mode ?? 0o770, 0o7777);
    if (props.strategy === VolumePermissionStrategy.FS_GROUP && props.user !== undefined) {
      throw new Error(`${owner}: user ${props.user} needs a chown, which the FS_GROUP strategy does not do; use CHOWN (or AUTO), or leave user out`);
    }
    let strategy = props.strategy ?? VolumePermissionStrategy.AUTO;
    if (strategy === VolumePermissionStrategy.AUTO) {
      strategy = props.user === undefined ? VolumePermissionStrategy.FS_GROUP : VolumePermissionStrategy.CHOWN;
    }
    const chown = strategy === VolumePermissionStrategy.CHOWN;
    const user = props.user ?? 0;
    // The least set that works, found by experiment (see the step's tests): CHOWN for
    // chown, FOWNER for chmod of a root it no longer owns, DAC_READ_SEARCH to list and
    // traverse 0700 directories of another owner; FSETID only to keep a setuid/setgid bit.
    const capabilities = [kplus.Capability.CHOWN, kplus.Capability.FOWNER, kplus.Capability.DAC_READ_SEARCH];
    // The mode is at most 0o7777: from 0o2000 up it has a setgid or setuid bit.
    if ((props.mode ?? 0o770) >= 0o2000) capabilities.push(kplus.Capability.FSETID);
    super(scope, id, {
      ...props,
      image: BUSYBOX_IMAGE,
      command: shellCommand('lib.sh', 'volume-permissions.sh'),
      env: chown ? {
        TARGET: literalEnv(TARGET_MOUNT),
        PERM_MODE: literalEnv('chown'),
        OWNER_UID: literalEnv(String(user)),
        OWNER_GID: literalEnv(String(props.group)),
        DIR_MODE: literalEnv(mode),
      } : {
        TARGET: literalEnv(TARGET_MOUNT),
        PERM_MODE: literalEnv('check'),
        FS_GROUP: literalEnv(String(props.group)),
      },
      writes: [{ volume: props.volume, path: TARGET_MOUNT }],
      security: chown ? StepSecurity.optOut({
        reason: `chown -R ${user}:${props.group} of volume ${props.volume.name} needs root with ${capabilities.map(c => c.replace(/^CAP_/, '')).join(', ')}`,
        addCapabilities: capabilities,
      }) : props.security,
      description: chown
        ? `chowns volume ${props.volume.name} to ${user}:${props.group}`
        : `sets fsGroup ${props.group} and checks volume ${props.volume.name} is group-writable`,
    });
    this.strategy = strategy;
    this.group = props.group;
  }

  protected onAddedTo(workload: kplus.AbstractPod): void {
    if (this.strategy === VolumePermissionStrategy.FS_GROUP) WorkloadInit.of(workload).requireFsGroup(this, this.group);
  }
}
