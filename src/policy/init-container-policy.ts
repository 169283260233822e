import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { checkPod, podOf } from './check-pod';

/**
 * One problem with one container, or with the pod.
 */
export interface PolicyFinding {
  /** The workload, as "Kind/name" (with "namespace/" when set). */
  readonly workload: string;

  /**
   * The container's name.
   *
   * @default - none: the finding is about the pod (e.g. hostNetwork, a hostPath volume)
   */
  readonly container?: string;

  /**
   * What kind of container it is: "init", "sidecar" (an init container with
   * `restartPolicy: Always`, a native sidecar: it gets every init-container
   * rule, and may have probes and lifecycle hooks), "app" or "ephemeral".
   *
   * @default - none: the finding is about the pod
   */
  readonly containerKind?: string;

  /** The rule broken, e.g. "privileged", "run-as-non-root" or "pinned-image"; RULES.md lists them all. */
  readonly rule: string;

  /**
   * The Pod Security Standards level that forbids it, "baseline" or "restricted":
   * a namespace enforcing that level (or a stricter one) rejects the pod.
   *
   * @default - none: one of this project's own rules for init containers
   */
  readonly podSecurityLevel?: string;

  /** What is wrong. */
  readonly message: string;

  /** How to fix it. */
  readonly fix: string;

  /**
   * The pod annotation that waives this finding; its value is the reason, e.g.
   * `chown.waivers.cdk8s-init.io/run-as-non-root: "chown -R needs root"`.
   * `StepSecurity.optOut()` writes these for the rules it breaks.
   */
  readonly waiver: string;

  /**
   * Whether the pod records a waiver for it; waived findings do not fail a check.
   * Always false for Pod Security findings in the whole-pod mode: the admission
   * controller does not read waivers.
   */
  readonly waived: boolean;
}

/**
 * Options for a policy check.
 */
export interface PolicyCheckOptions {
  /**
   * Also check the app containers and the pod as a namespace labelled
   * `pod-security.kubernetes.io/enforce=restricted` would: every container
   * (init, app, ephemeral) and pod-level field against the Pod Security
   * Standards restricted level, whatever the waivers say. Use
   * `AppContainerHardening.restrict()` for app containers.
   *
   * @default false - the init containers (and ephemeral ones) and the pod fields they share
   */
  readonly wholePod?: boolean;
}

type Json = any;

/**
 * Checks the init containers of synthesized workloads, including hand-written
 * cdk8s-plus ones: the Pod Security Standards (baseline and restricted,
 * including the pod fields they share: host namespaces, hostPath and other
 * volume types, sysctls), a read-only root filesystem, resources, pinned image,
 * termination message policy, no literal secrets, and no probes or lifecycle
 * hooks on init containers that are not native sidecars. Native sidecars
 * (`restartPolicy: Always`) are init containers that run beside the app: they
 * are checked by the same rules, and may have probes and lifecycle hooks.
 * Ephemeral containers
 * are checked against the Pod Security Standards. In the whole-pod mode, app
 * containers are too, as a namespace enforcing the restricted level would.
 * RULES.md lists every rule and how to waive one.
 *
 * Run it in CI: `InitContainerPolicy.enforce(chart)` makes `cdk8s synth` fail;
 * `npx cdk8s-init-policy dist/*.k8s.yaml` checks manifests on disk.
 */
export class InitContainerPolicy {
  /**
   * Findings for a list of Kubernetes objects (parsed manifests).
   */
  public static checkManifests(manifests: any[], options: PolicyCheckOptions = {}): PolicyFinding[] {
    return manifests.flatMap(obj => {
      const pod = podOf(obj);
      if (!pod) return [];
      const ns = obj.metadata?.namespace;
      const workload = `${obj.kind}/${ns ? `${ns}/` : ''}${obj.metadata?.name ?? '?'}`;
      return checkPod(pod, options.wholePod ?? false).map(f => ({ workload, ...f }));
    });
  }

  /**
   * Findings for every chart in `scope` (a Chart or an App).
   */
  public static check(scope: IConstruct, options: PolicyCheckOptions = {}): PolicyFinding[] {
    return InitContainerPolicy.checkManifests(manifestsOf(scope), options);
  }

  /**
   * Adds a validation to `chart`: synthesis fails, listing every finding not waived.
   */
  public static enforce(chart: Chart, options: PolicyCheckOptions = {}): void {
    chart.node.addValidation({
      validate: () => InitContainerPolicy.checkManifests(manifestsOf(chart), options)
        .filter(f => !f.waived)
        .map(formatFinding),
    });
  }

  /**
   * One line per finding: "Kind/name init container "c": message (fix: ...)";
   * "sidecar container", "app container", "ephemeral container" or "pod" for the others.
   */
  public static format(findings: PolicyFinding[]): string {
    return findings.map(f => (f.waived ? '[waived] ' : '') + formatFinding(f)).join('\n');
  }
}

// The API objects' JSON, without Chart.toJson(), which would run validations (and so enforce() itself).
function manifestsOf(scope: IConstruct): Json[] {
  return scope.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c)).map(o => o.toJson());
}

function formatFinding(f: PolicyFinding): string {
  const where = f.container === undefined ? 'pod' : `${f.containerKind ?? 'init'} container "${f.container}"`;
  return `${f.workload} ${where}: ${f.message} (fix: ${f.fix})`;
}
