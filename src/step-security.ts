import * as kplus from 'cdk8s-plus-27';
import { RULE } from './policy/rules';

/** The uid/gid steps run as by default: "nonroot" in distroless images, unused in busybox. */
export const DEFAULT_STEP_UID = 65532;

/** The largest uid/gid the API server accepts (an int32). */
const MAX_ID = 2147483647;

/** `id` unless it is not an integer the API server accepts as a uid/gid. */
function assertId(method: string, what: 'user' | 'group', id: number): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_ID) {
    throw new Error(`StepSecurity.${method}: ${what} ${String(id)} is not a valid ${what === 'user' ? 'uid' : 'gid'}; give an integer from 0 to ${MAX_ID}`);
  }
  return id;
}

/** The restricted profiles made so far, by "uid:gid". */
const RESTRICTED = new Map<string, StepSecurity>();

/**
 * Options for the restricted (default) security profile.
 */
export interface RestrictedSecurityOptions {
  /**
   * UID the step runs as: an integer from 1 to 2147483647.
   *
   * @default 65532
   */
  readonly user?: number;

  /**
   * GID the step runs as: an integer from 0 to 2147483647.
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
   * UID the step runs as (0 to 2147483647); 0 runs it as root.
   *
   * @default 0
   */
  readonly user?: number;

  /**
   * GID the step runs as (0 to 2147483647).
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
 * explicit `StepSecurity.optOut()` with a reason, which waives only the
 * policy rules the opt-out actually breaks (`waivedRules`).
 */
export class StepSecurity {
  /**
   * The restricted profile (the default).
   */
  public static restricted(options: RestrictedSecurityOptions = {}): StepSecurity {
    const user = assertId('restricted', 'user', options.user ?? DEFAULT_STEP_UID);
    if (user === 0) {
      throw new Error('StepSecurity.restricted: user 0 is not a non-root uid; use StepSecurity.optOut() to run as root');
    }
    const group = assertId('restricted', 'group', options.group ?? DEFAULT_STEP_UID);
    // Every step without a `security` gets this profile: one (immutable) object per uid and gid, not one per step.
    const key = `${user}:${group}`;
    let profile = RESTRICTED.get(key);
    if (!profile) {
      profile = new StepSecurity(undefined, {
        user,
        group,
        ensureNonRoot: true,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      }, []);
      if (RESTRICTED.size >= 64) RESTRICTED.clear();
      RESTRICTED.set(key, profile);
    }
    return profile;
  }

  /**
   * Leaves the restricted profile for one step, for a documented reason.
   * ALL capabilities are still dropped before `addCapabilities` are added,
   * privilege escalation stays off and seccomp stays RuntimeDefault.
   *
   * The reason is recorded on the pod as one waiver per policy rule the
   * opt-out breaks (running as root, each added capability, a writable root
   * filesystem), so it cannot waive anything else, e.g. `privileged`.
   */
  public static optOut(options: SecurityOptOutOptions): StepSecurity {
    if (!options.reason || options.reason.trim() === '') {
      throw new Error('StepSecurity.optOut: a reason is required');
    }
    const user = assertId('optOut', 'user', options.user ?? 0);
    return new StepSecurity(options.reason.trim(), {
      user,
      group: assertId('optOut', 'group', options.group ?? 0),
      ensureNonRoot: user !== 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: options.readOnlyRootFilesystem ?? true,
    }, options.addCapabilities ?? []);
  }

  /**
   * Whether this meets the Pod Security Standards "restricted" profile and
   * keeps the root filesystem read-only (no rule is waived).
   */
  public readonly isRestricted: boolean;

  /**
   * Why the step opted out of the restricted profile.
   *
   * @default - none: the step did not opt out
   */
  public readonly optOutReason?: string;

  /**
   * The policy rules this opt-out breaks and so waives, as written in the
   * pod's waiver annotations: "run-as-non-root", "read-only-root-filesystem",
   * and "capabilities.<NAME>" per added capability (NET_BIND_SERVICE needs none).
   * Empty for the restricted profile. See RULES.md.
   */
  public readonly waivedRules: string[];

  /** The cdk8s-plus container security context (capabilities are added separately). */
  public readonly context: kplus.ContainerSecurityContextProps;

  /**
   * Capabilities added after dropping ALL, as Kubernetes names them
   * ("CHOWN", not "CAP_CHOWN", which the Pod Security admission would not match).
   */
  public readonly addedCapabilities: string[];

  private constructor(
    optOutReason: string | undefined,
    context: kplus.ContainerSecurityContextProps,
    addCapabilities: kplus.Capability[],
  ) {
    this.optOutReason = optOutReason;
    // Frozen: a profile may be shared by many steps (see `restricted`).
    this.context = Object.freeze(context);
    this.addedCapabilities = Object.freeze(addCapabilities.map(c => String(c).replace(/^CAP_/, ''))) as string[];
    // What the opt-out changes, rule by rule; the policy's findings for this container use the same ids.
    this.waivedRules = Object.freeze([
      ...context.user === 0 ? [RULE.RUN_AS_NON_ROOT] : [],
      ...this.addedCapabilities.filter(c => c !== 'NET_BIND_SERVICE').map(c => `${RULE.CAPABILITIES}.${c}`),
      ...context.readOnlyRootFilesystem === false ? [RULE.READ_ONLY_ROOT_FILESYSTEM] : [],
    ]) as string[];
    this.isRestricted = this.waivedRules.length === 0;
  }
}
