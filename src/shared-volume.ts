import { Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { brand, SHARED_VOLUME_BRAND } from './private/identity';
import { assertMountPath, isMountPath } from './private/mount-paths';
import { assertDns1123Label, isDns1123Label, toDns1123Label } from './private/names';
import { stepOwner } from './private/step-values';

/**
 * Properties of a `SharedVolume`.
 */
export interface SharedVolumeProps {
  /**
   * The volume name in the pod spec (a DNS-1123 label).
   *
   * @default - derived from the construct id
   */
  readonly name?: string;

  /**
   * Storage medium of the emptyDir. Use `EmptyDirMedium.MEMORY` for secrets,
   * so they never touch the node's disk.
   *
   * @default - the node's default medium (disk)
   */
  readonly medium?: kplus.EmptyDirMedium;

  /**
   * Size limit of the emptyDir, a whole number of MiB and at least 1 MiB; the
   * pod is evicted when it is exceeded.
   *
   * @default - no limit
   */
  readonly sizeLimit?: Size;

  /**
   * An existing cdk8s-plus volume (ConfigMap, Secret, PVC, ...) to share instead
   * of a new emptyDir. `name`, `medium` and `sizeLimit` do not apply to it.
   *
   * @default - a new emptyDir volume
   */
  readonly volume?: kplus.Volume;

  /**
   * Whether the volume has content before any init step runs, so steps and
   * containers may read it without an earlier step writing it.
   *
   * @default - true when `volume` is given, false for an emptyDir
   */
  readonly prePopulated?: boolean;
}

/**
 * Options for mounting a shared volume into a main container.
 */
export interface SharedVolumeMountOptions {
  /**
   * Mount read-only. Main containers usually only read what init steps wrote.
   *
   * @default true
   */
  readonly readOnly?: boolean;

  /**
   * Mount only this sub-path of the volume.
   *
   * @default - the whole volume
   */
  readonly subPath?: string;
}

/**
 * A shared volume at a path in an init step.
 */
export interface SharedVolumeMount {
  /** The shared volume. */
  readonly volume: SharedVolume;

  /** Absolute path inside the step's container. */
  readonly path: string;

  /**
   * Mount only this sub-path of the volume.
   *
   * @default - the whole volume
   */
  readonly subPath?: string;
}

/**
 * A named hand-off between init steps and main containers.
 *
 * Steps declare that they write or read it (`InitStepProps.writes` / `reads`);
 * main containers mount it with `mount()`. The volume is declared on the pod
 * exactly once, however many containers use it, and every pod it is applied to
 * gets it. By default it is a new emptyDir.
 */
export class SharedVolume extends Construct {
  /** The volume name in the pod spec. */
  public readonly name: string;

  /** The underlying cdk8s-plus volume. */
  public readonly volume: kplus.Volume;

  /** Whether the volume has content before any init step runs. */
  public readonly prePopulated: boolean;

  private readonly mountedIn: kplus.Container[] = [];
  private readonly writtenIn = new Set<kplus.AbstractPod>();

  constructor(scope: Construct, id: string, props: SharedVolumeProps = {}) {
    // Named in errors only: the construct path is not built for a volume that passes.
    const owner = () => stepOwner('SharedVolume', scope, id);
    const name = props.volume ? props.volume.name : props.name ?? toDns1123Label(id);
    if (props.volume) {
      if (props.name !== undefined || props.medium !== undefined || props.sizeLimit !== undefined) {
        throw new Error(`${owner()}: name, medium and sizeLimit apply only to a new emptyDir, not to an existing volume ("${props.volume.name}")`);
      }
    } else {
      if (!isDns1123Label(name)) assertDns1123Label(owner(), 'volume name', name);
      if (props.sizeLimit !== undefined) assertSizeLimit(owner(), props.sizeLimit);
    }
    super(scope, id);
    brand(this, SHARED_VOLUME_BRAND);
    this.name = name;
    if (props.volume) {
      this.volume = props.volume;
    } else {
      this.volume = kplus.Volume.fromEmptyDir(this, 'Volume', this.name, {
        medium: props.medium,
        sizeLimit: props.sizeLimit,
      });
    }
    this.prePopulated = props.prePopulated ?? props.volume !== undefined;
    this.node.addValidation({ validate: () => this.validateReaders() });
  }

  /**
   * Mounts this volume into a main container, read-only unless told otherwise.
   *
   * @param container a main (or any) container of a workload
   * @param path absolute mount path in that container
   */
  public mount(container: kplus.Container, path: string, options: SharedVolumeMountOptions = {}): void {
    if (!isMountPath(path)) assertMountPath(`SharedVolume ${this.node.path} in container "${container.name}"`, path);
    container.mount(path, this.volume, {
      readOnly: options.readOnly ?? true,
      subPath: options.subPath,
    });
    this.mountedIn.push(container);
  }

  /**
   * Records that an init step of `workload` writes this volume.
   * @internal
   */
  public _markWrittenIn(workload: kplus.AbstractPod): void {
    this.writtenIn.add(workload);
  }

  /**
   * Whether an init step of `workload` writes this volume.
   * @internal
   */
  public _isWrittenIn(workload: kplus.AbstractPod): boolean {
    return this.writtenIn.has(workload);
  }

  // A container mounted with mount() must belong to a workload where a step writes
  // this volume; an emptyDir nobody fills is an empty directory at best.
  private validateReaders(): string[] {
    if (this.prePopulated) return [];
    const written = [...this.writtenIn];
    return this.mountedIn
      .filter(c => !written.some(w => w.containers.includes(c)))
      .map(c => `container "${c.name}" reads shared volume "${this.name}" but no init step of its workload writes it`);
  }
}

/** cdk8s-plus writes the limit in Mi, and the API server takes 0 as a limit nothing fits in. */
function assertSizeLimit(owner: string, size: Size): void {
  const kib = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!(kib >= 1024 && kib % 1024 === 0)) {
    const given = Number.isFinite(kib) && kib % 1024 === 0 ? `${kib / 1024} MiB` : `${kib} KiB`;
    throw new Error(`${owner}: sizeLimit ${given} must be a whole number of MiB, at least 1 (e.g. Size.mebibytes(64))`);
  }
}
