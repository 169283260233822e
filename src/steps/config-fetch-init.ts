import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ConfigSource } from './config-source';
import { InitStep, InitStepOptions } from '../init-step';
import { assertGroupId, groupCanRead, requireAppCanRead, WrittenFile } from '../private/file-readers';
import { assertOwn, CONFIG_SOURCE_BRAND, SHARED_VOLUME_BRAND } from '../private/identity';
import { literalEnv } from '../private/kubelet-literal';
import { stepOwner, timeoutSeconds } from '../private/step-values';
import { SharedVolume } from '../shared-volume';
import { shellCommand } from '../shell/scripts';

/** Where the step mounts the volume it fills. */
const DEST_MOUNT = '/var/run/cdk8s-init/out';

/**
 * Properties of a `ConfigFetchInit` step.
 */
export interface ConfigFetchInitProps extends InitStepOptions {
  /** Where the files come from. */
  readonly source: ConfigSource;

  /**
   * The volume to fill. Main containers mount it read-only with
   * `volume.mount(container, path)`, at a path of their choosing.
   */
  readonly volume: SharedVolume;

  /**
   * Overall timeout, retries included; at least 1 second.
   *
   * @default Duration.minutes(2)
   */
  readonly timeout?: Duration;

  /**
   * Longest single attempt (a download, a git fetch, an S3 copy); failed
   * attempts are retried until `timeout`. At least 1 second.
   *
   * @default Duration.seconds(60)
   */
  readonly attemptTimeout?: Duration;

  /**
   * Image override (must offer what the source's script uses).
   *
   * @default - the source's: `ConfigSource.CURL_IMAGE` for HTTP(S),
   * `ConfigSource.GIT_IMAGE` for Git, `ConfigSource.AWS_CLI_IMAGE` for S3,
   * `ConfigSource.BUSYBOX_IMAGE` for templates
   */
  readonly image?: string;

  /**
   * The group that reads the files: it becomes the pod's `fsGroup`, so the
   * kubelet makes the volume group-owned by it (setgid), the files get that
   * group, and every container of the pod has it. The files belong to the
   * step's uid, so an app of another uid reads a file whose mode has no
   * others-read bit (e.g. 0o440) only this way. An integer from 0 to
   * 2147483647; fails at synth time when the workload or another step needs a
   * different fsGroup.
   *
   * @default - when a file's mode lets only its group read it: the pod's
   * fsGroup if it has one; else the one run-as group of the app containers
   * that mount `volume`; without either, synthesis fails, as the app could
   * not read the file
   */
  readonly group?: number;
}

/**
 * Places configuration files into a `SharedVolume` before the app starts:
 * from HTTP(S) (with checksums), a Git repository at a pinned revision, S3, or
 * templates rendered with declared variables.
 *
 * Every file is written to a temporary name, verified, and renamed into place,
 * so the app never sees a partial file. Transient failures (connection errors,
 * HTTP 5xx/429, timeouts) are retried with backoff until `timeout`; permanent
 * ones (HTTP 404, checksum mismatch, missing revision or repository, empty S3
 * prefix) fail at once, and the last log line says which. Temporary names are
 * unique per run, so replicas sharing a volume do not trip on each other.
 */
export class ConfigFetchInit extends InitStep {
  /** Files or directories this step writes, relative to the volume. */
  public readonly outputs: string[];

  private readonly volume: SharedVolume;
  private readonly files: WrittenFile[];
  private readonly group?: number;

  constructor(scope: Construct, id: string, props: ConfigFetchInitProps) {
    const timeout = props.timeout ?? Duration.minutes(2);
    const owner = stepOwner('ConfigFetchInit', scope, id);
    assertOwn(owner, 'source', props.source, ConfigSource, CONFIG_SOURCE_BRAND);
    assertOwn(owner, 'volume', props.volume, SharedVolume, SHARED_VOLUME_BRAND);
    const timeoutS = timeoutSeconds(owner, 'timeout', timeout);
    const attemptS = timeoutSeconds(owner, 'attemptTimeout', props.attemptTimeout ?? Duration.seconds(60));
    const bound = props.source._bind(owner);
    if (props.group !== undefined) {
      assertGroupId(owner, props.group);
      const unreadable = bound.files.find(f => !groupCanRead(f.mode));
      if (unreadable) {
        throw new Error(`${owner}: the mode of ${unreadable.path} does not let group ${props.group} read it; give a mode with group read, e.g. 0o440`);
      }
    }
    super(scope, id, {
      ...props,
      image: props.image ?? bound.image,
      command: shellCommand(...bound.scripts),
      env: {
        ...bound.env,
        FETCH_DEST: literalEnv(DEST_MOUNT),
        FETCH_TIMEOUT: literalEnv(String(timeoutS)),
        FETCH_ATTEMPT_TIMEOUT: literalEnv(String(attemptS)),
      },
      reads: bound.reads,
      writes: [{ volume: props.volume, path: DEST_MOUNT }],
      timeout,
      description: `${bound.description} into ${props.volume.name}`,
    });
    this.outputs = bound.outputs;
    this.volume = props.volume;
    this.files = bound.files;
    this.group = props.group;
  }

  // The files belong to the step's uid: an app of another uid reads them through the pod's fsGroup.
  protected onAddedTo(workload: kplus.AbstractPod): void {
    requireAppCanRead(this, workload, this.volume, this.files, this.group);
  }
}
