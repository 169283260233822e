import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { addSecretKeyValidation, assertSafeEnv } from './private/env';
import { assertOwn, brand, INIT_STEP_BRAND, SHARED_VOLUME_BRAND } from './private/identity';
import { assertPinnedImage } from './private/image';
import { sidecarContainerProps } from './private/line';
import { assertAbsolutePath, assertMountPath, assertNoOverlappingMounts } from './private/mount-paths';
import { assertDns1123Label, suffixedLabel, toDns1123Label } from './private/names';
import { withDefaultResources } from './private/resources';
import { timeoutSeconds } from './private/step-values';
import { SharedVolume, SharedVolumeMount } from './shared-volume';
import { StepSecurity } from './step-security';

/**
 * Options every init step takes, including the library's patterns.
 */
export interface InitStepOptions {
  /**
   * Container name, a DNS-1123 label unique among the pod's containers.
   *
   * @default - derived from the construct id ("Wait For DB" becomes "wait-for-db")
   */
  readonly name?: string;

  /**
   * When the kubelet pulls the image.
   *
   * @default ImagePullPolicy.IF_NOT_PRESENT - the image is pinned, so a cached copy is the same image and the pod starts sooner
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;

  /**
   * CPU and memory. What is left out is filled from small defaults
   * (cpu request 50m; memory request 32Mi, limit 64Mi), so every step has
   * requests and a memory limit.
   *
   * @default - cpu request 50m, memory request 32Mi and limit 64Mi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Security profile.
   *
   * @default StepSecurity.restricted()
   */
  readonly security?: StepSecurity;
}

/**
 * What makes a step a native sidecar, and its probes.
 *
 * A native sidecar is an init container with `restartPolicy: Always`
 * (Kubernetes 1.28 with the SidecarContainers feature gate, on by default from
 * 1.29): it starts in its place in the sequence, the next step starts once it
 * has started (its startup probe passed), it keeps running beside the app,
 * and it is stopped after the app. In a Job, the Job completes when the app
 * containers exit, whatever the sidecar does.
 */
export interface SidecarOptions {
  /**
   * Passes once the sidecar is ready for the steps after it (a proxy listening,
   * an agent with its credentials): they, and the app, start only then.
   *
   * @default - none: the next step starts as soon as the sidecar's process has started
   */
  readonly startupProbe?: kplus.Probe;

  /**
   * Whether the sidecar is ready for traffic, once started; the pod is Ready only
   * while every sidecar and app container is.
   *
   * @default - none
   */
  readonly readinessProbe?: kplus.Probe;

  /**
   * Whether the sidecar is alive; the kubelet restarts it when this fails.
   *
   * @default - none
   */
  readonly livenessProbe?: kplus.Probe;
}

/**
 * Properties of an `InitStep`.
 */
export interface InitStepProps extends InitStepOptions {
  /**
   * Container image, pinned to a version tag or a sha256 digest. Untagged and
   * ":latest" images are rejected.
   */
  readonly image: string;

  /**
   * Entrypoint (the container's `command`).
   *
   * @default - the image's entrypoint
   */
  readonly command?: string[];

  /**
   * Arguments to the entrypoint.
   *
   * @default - the image's cmd
   */
  readonly args?: string[];

  /**
   * Environment variables. Secrets must come from `EnvValue.fromSecretValue`;
   * a literal value under a name such as PASSWORD or TOKEN is rejected.
   *
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };

  /**
   * Working directory of the step.
   *
   * @default - the image's working directory
   */
  readonly workingDir?: string;

  /**
   * Shared volumes this step reads, mounted read-only. Each must be written by
   * an earlier step or be pre-populated.
   *
   * @default - none
   */
  readonly reads?: SharedVolumeMount[];

  /**
   * Shared volumes this step writes, mounted read-write.
   *
   * @default - none
   */
  readonly writes?: SharedVolumeMount[];

  /**
   * Mount a private emptyDir (256Mi) at this path, for tools that need a
   * writable directory such as /tmp under the read-only root filesystem.
   *
   * @default - none
   */
  readonly scratchPath?: string;

  /**
   * The longest this step may run before it fails by itself, if it is bounded.
   * Used to report the pod's worst-case start delay.
   *
   * @default - unbounded
   */
  readonly timeout?: Duration;

  /**
   * One line saying what the step does, for init plans and reviews.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * Run the step as a native sidecar (`restartPolicy: Always`), with these
   * probes: it starts in its place in the sequence and keeps running beside
   * the app. It needs Kubernetes 1.29 or later: declare the version the
   * manifests are for with `KubernetesTarget` on the app or chart, or
   * synthesis fails (an older API server would silently drop the field, and the
   * pod would never start).
   *
   * @default - an ordinary init step, which must exit 0 before the next one starts
   */
  readonly sidecar?: SidecarOptions;
}

/**
 * One init container: a pinned image with its command, environment, resources,
 * security profile and the shared volumes it reads and writes.
 *
 * Add it to a workload with `InitSequence`. Every pattern of this library
 * (`WaitForService`, `ConfigFetchInit`, ...) is an `InitStep`, and so can a
 * team's own reusable step be: subclass it and pass the props to `super`.
 */
export class InitStep extends Construct {
  /** Container name. */
  public readonly name: string;

  /** Pinned container image. */
  public readonly image: string;

  /** When the kubelet pulls the image. */
  public readonly imagePullPolicy: kplus.ImagePullPolicy;

  /** Entrypoint, if set. */
  public readonly command?: string[];

  /** Arguments, if set. */
  public readonly args?: string[];

  /** Environment variables. */
  public readonly env: { [name: string]: kplus.EnvValue };

  /** Working directory, if set. */
  public readonly workingDir?: string;

  /** Shared volumes read, mounted read-only. */
  public readonly reads: SharedVolumeMount[];

  /** Shared volumes written, mounted read-write. */
  public readonly writes: SharedVolumeMount[];

  /** Resources, defaults filled in. */
  public readonly resources: kplus.ContainerResources;

  /** Security profile. */
  public readonly security: StepSecurity;

  /** Longest run time, if bounded. */
  public readonly timeout?: Duration;

  /** What the step does, if described. */
  public readonly description?: string;

  /** Path of the step's private scratch directory, if any. */
  public readonly scratchPath?: string;

  /** The step's sidecar options, when it runs as a native sidecar. */
  public readonly sidecar?: SidecarOptions;

  private readonly scratch?: kplus.Volume;
  private readonly _prerequisites: InitStep[] = [];

  constructor(scope: Construct, id: string, props: InitStepProps) {
    super(scope, id);
    brand(this, INIT_STEP_BRAND);
    const owner = `${this.constructor.name} ${this.node.path}`;

    this.name = props.name ?? toDns1123Label(id);
    assertDns1123Label(owner, 'container name', this.name);
    assertPinnedImage(owner, props.image);
    this.image = props.image;
    this.imagePullPolicy = props.imagePullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT;
    this.command = props.command;
    this.args = props.args;
    this.env = { ...props.env };
    assertSafeEnv(owner, this.env);
    addSecretKeyValidation(this, () => this.env);
    if (props.workingDir !== undefined) assertAbsolutePath(owner, 'workingDir', props.workingDir);
    this.workingDir = props.workingDir;

    this.reads = [...props.reads ?? []];
    this.writes = [...props.writes ?? []];
    assertMounts(owner, this.reads, this.writes);
    if (props.scratchPath !== undefined) {
      assertMountPath(owner, props.scratchPath);
      assertNoOverlappingMounts(owner, [props.scratchPath, ...this.reads.map(m => m.path), ...this.writes.map(m => m.path)]);
      this.scratchPath = props.scratchPath;
      // Named after the step, so it is unique in the pod as the step name is.
      this.scratch = kplus.Volume.fromEmptyDir(this, 'Scratch', suffixedLabel(this.name, 'scratch'), {
        sizeLimit: Size.mebibytes(256),
      });
    }

    this.resources = withDefaultResources(props.resources);
    this.security = props.security ?? StepSecurity.restricted();
    if (props.timeout !== undefined) timeoutSeconds(owner, 'timeout', props.timeout);
    if (props.sidecar !== undefined && props.timeout !== undefined) {
      throw new Error(`${owner}: a sidecar runs beside the app until the pod stops, so it has no timeout; bound its start with a startupProbe`);
    }
    this.timeout = props.timeout;
    this.description = props.description;
    this.sidecar = props.sidecar === undefined ? undefined : { ...props.sidecar };
  }

  /**
   * The cdk8s-plus container props of this step. The workload's model adds what
   * cdk8s-plus-27 cannot express (seccomp, capabilities, termination message
   * policy) when it renders, so these alone are not the hardened container.
   * @internal
   */
  public _toContainerProps(): kplus.ContainerProps {
    const mount = (m: SharedVolumeMount, readOnly: boolean): kplus.VolumeMount => ({
      path: m.path, volume: m.volume.volume, readOnly, subPath: m.subPath,
    });
    const props: kplus.ContainerProps = {
      name: this.name,
      image: this.image,
      imagePullPolicy: this.imagePullPolicy,
      command: this.command,
      args: this.args,
      envVariables: this.env,
      workingDir: this.workingDir,
      resources: this.resources,
      securityContext: this.security.context,
      volumeMounts: [
        ...this.writes.map(m => mount(m, false)),
        ...this.reads.map(m => mount(m, true)),
        ...this.scratch ? [{ path: this.scratchPath!, volume: this.scratch, readOnly: false }] : [],
      ],
    };
    return this.sidecar ? sidecarContainerProps(props, this.sidecar) : props;
  }

  /**
   * Steps that run right before this one wherever it is added (e.g. the wait
   * for a database before a migration), in order.
   */
  public get prerequisites(): InitStep[] {
    return [...this._prerequisites];
  }

  /**
   * Makes `step` run right before this one wherever this step is added.
   */
  protected addPrerequisite(step: InitStep): void {
    this._prerequisites.push(step);
  }

  /**
   * Called once for each workload this step is added to, after its container
   * is; override to add what the step needs there (e.g. RBAC for its service account).
   */
  protected onAddedTo(_workload: kplus.AbstractPod): void {
    // Most steps need nothing beyond their container.
  }

  /**
   * Lets the library call `onAddedTo`.
   * @internal
   */
  public _notifyAddedTo(workload: kplus.AbstractPod): void {
    this.onAddedTo(workload);
  }
}

function assertMounts(owner: string, reads: SharedVolumeMount[], writes: SharedVolumeMount[]): void {
  const all = [...writes, ...reads];
  for (const m of all) {
    // The message names the path: built only for a volume that is not this copy's SharedVolume.
    if (!(m.volume instanceof SharedVolume)) assertOwn(owner, `the volume at ${JSON.stringify(m.path)} in reads/writes`, m.volume, SharedVolume, SHARED_VOLUME_BRAND);
    assertMountPath(owner, m.path);
  }
  for (const r of reads) {
    if (writes.some(w => w.volume === r.volume)) {
      throw new Error(`${owner}: volume "${r.volume.name}" is both read and written; list it under writes only`);
    }
  }
  assertNoOverlappingMounts(owner, all.map(m => m.path));
}
