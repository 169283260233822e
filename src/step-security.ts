import * as kplus from 'cdk8s-plus-27';

/** The uid/gid steps run as by default: "nonroot" in distroless images, unused in busybox. */
export const DEFAULT_STEP_UID = 65532;

/**
 * Options for the restricted (default) security profile.
 */
export interface RestrictedSecurityOptions {
  /**
   * UID the step runs as. Must not be 0.
   *
   * @default 65532
   */
  readonly user?: number;

  /**
   * GID the step runs as.
   *
   * @default 65532
   */
  readonly group?: number;
}

/**
 * Options for opting one step out of the restricted profile.
 */
export interface SecurityOptOutOptions {
  /**
   * Why this step cannot run restricted. Required: it is recorded on the pod as
   * an annotation so reviewers and policy checks see it.
   */
  readonly reason: string;

  /**
   * UID the step runs as; 0 runs it as root.
   *
   * @default 0
   */
  readonly user?: number;

  /**
   * GID the step runs as.
   *
   * @default 0
   */
  readonly group?: number;

  /**
   * Capabilities to add after dropping ALL. Add only what the step needs,
   * e.g. CHOWN and FOWNER for a chown.
   *
   * @default - none
   */
  readonly addCapabilities?: kplus.Capability[];

  /**
   * Whether the root filesystem stays read-only.
   *
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
}

/**
 * The security context of an init step.
 *
 * Every step is restricted by default (Pod Security Standards "restricted":
 * non-root uid, no privilege escalation, ALL capabilities dropped, seccomp
 * RuntimeDefault, read-only root filesystem). Leaving that profile takes an
 * explicit `StepSecurity.optOut()` with a reason.
 */
export class StepSecurity {
  /**
   * The restricted profile (the default).
   */
  public static restricted(options: RestrictedSecurityOptions = {}): StepSecurity {
    const user = options.user ?? DEFAULT_STEP_UID;
    if (!Number.isInteger(user) || user <= 0) {
      throw new Error(`StepSecurity.restricted: user ${user} is not a non-root uid; use StepSecurity.optOut() to run as root`);
    }
    return new StepSecurity(true, undefined, {
      user,
      group: options.group ?? DEFAULT_STEP_UID,
      ensureNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    }, []);
  }

  /**
   * Leaves the restricted profile for one step, for a documented reason.
   * ALL capabilities are still dropped before `addCapabilities` are added,
   * privilege escalation stays off and seccomp stays RuntimeDefault.
   */
  public static optOut(options: SecurityOptOutOptions): StepSecurity {
    if (!options.reason || options.reason.trim() === '') {
      throw new Error('StepSecurity.optOut: a reason is required');
    }
    const user = options.user ?? 0;
    return new StepSecurity(false, options.reason.trim(), {
      user,
      group: options.group ?? 0,
      ensureNonRoot: user !== 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: options.readOnlyRootFilesystem ?? true,
    }, options.addCapabilities ?? []);
  }

  /** Whether this meets the Pod Security Standards "restricted" profile. */
  public readonly isRestricted: boolean;

  /** Why the step opted out of the restricted profile, if it did. */
  public readonly optOutReason?: string;

  /** The cdk8s-plus container security context (capabilities are added separately). */
  public readonly context: kplus.ContainerSecurityContextProps;

  /**
   * Capabilities added after dropping ALL, as Kubernetes names them
   * ("CHOWN", not "CAP_CHOWN", which the Pod Security admission would not match).
   */
  public readonly addedCapabilities: string[];

  private constructor(
    isRestricted: boolean,
    optOutReason: string | undefined,
    context: kplus.ContainerSecurityContextProps,
    addCapabilities: kplus.Capability[],
  ) {
    this.isRestricted = isRestricted;
    this.optOutReason = optOutReason;
    this.context = context;
    this.addedCapabilities = addCapabilities.map(c => String(c).replace(/^CAP_/, ''));
  }
}
