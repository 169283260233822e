import { Construct, IConstruct } from 'constructs';
import { brand, brandOf } from './private/identity';

/** Brand of `KubernetesTarget` objects, so another copy of the library finds them too. */
const KUBERNETES_TARGET_BRAND = Symbol.for('cdk8s-init.KubernetesTarget');

/**
 * Properties of a `KubernetesTarget`.
 */
export interface KubernetesTargetProps {
  /**
   * The oldest Kubernetes version the manifests will be applied to, as
   * "1.30" (a patch level is allowed and ignored: "1.30.4").
   */
  readonly version: string;

  /**
   * Acknowledges that every Kubernetes 1.28 cluster the manifests go to runs
   * with the SidecarContainers feature gate on. The gate is alpha and off by
   * default in 1.28; without it the API server drops a sidecar's
   * `restartPolicy`. Only meaningful when `version` is 1.28.
   *
   * @default false
   */
  readonly sidecarContainersFeatureGate?: boolean;
}

/**
 * The Kubernetes version the manifests under a scope are for, declared once on
 * the app or a chart (a chart's declaration wins over the app's). Steps that
 * need a newer cluster check it at synthesis: a native sidecar needs 1.29 or
 * later, or 1.28 with the SidecarContainers feature gate.
 *
 * Without a declaration, a sidecar fails synthesis: an API server older than
 * 1.28 accepts an init container with `restartPolicy: Always` and drops the
 * field, and the sidecar then blocks the pod forever as an init container that
 * never exits. Failing at synth time is the safe side.
 *
 * @example
 * new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
 */
export class KubernetesTarget extends Construct {
  /**
   * The declaration that applies to `scope`: the nearest one on the scope or an
   * ancestor (a chart's, else the app's).
   *
   * @returns undefined when none is declared
   */
  public static of(scope: IConstruct): KubernetesTarget | undefined {
    for (const s of [...scope.node.scopes].reverse()) {
      const declared = s.node.children.filter(c => brandOf(c, KUBERNETES_TARGET_BRAND) !== undefined);
      if (declared.length > 0) return declared[0] as KubernetesTarget;
    }
    return undefined;
  }

  private static declaredOn(scope: IConstruct): IConstruct | undefined {
    return scope.node.children.find(c => brandOf(c, KUBERNETES_TARGET_BRAND) !== undefined);
  }

  /** The declared version as given. */
  public readonly version: string;

  /** Its minor version: 30 for "1.30". */
  public readonly minor: number;

  /** Whether 1.28 clusters run with the SidecarContainers feature gate on. */
  public readonly sidecarContainersFeatureGate: boolean;

  constructor(scope: Construct, id: string, props: KubernetesTargetProps) {
    const where = `KubernetesTarget ${scope.node.path ? `${scope.node.path}/` : ''}${id}`;
    const match = /^1\.(\d+)(\.\d+)?$/.exec(String(props.version));
    if (!match) {
      throw new Error(`${where}: version ${JSON.stringify(props.version)} is not a Kubernetes version such as "1.30"`);
    }
    const minor = Number(match[1]);
    if (props.sidecarContainersFeatureGate && minor !== 28) {
      throw new Error(
        `${where}: sidecarContainersFeatureGate is only for Kubernetes 1.28 (the gate is on by default from 1.29, ` +
        `and before 1.28 there is no such gate); version is ${props.version}`,
      );
    }
    const existing = KubernetesTarget.declaredOn(scope);
    if (existing) {
      throw new Error(`${where}: ${existing.node.path} already declares the Kubernetes version for this scope; declare it once per app or chart`);
    }
    super(scope, id);
    brand(this, KUBERNETES_TARGET_BRAND);
    this.version = props.version;
    this.minor = minor;
    this.sidecarContainersFeatureGate = props.sidecarContainersFeatureGate ?? false;
  }

  /**
   * Why native sidecars cannot run on every cluster this declares, or
   * undefined when they can (1.29 and later; 1.28 with the feature gate).
   */
  public get nativeSidecarProblem(): string | undefined {
    if (this.minor >= 29) return undefined;
    if (this.minor === 28) {
      return this.sidecarContainersFeatureGate ? undefined
        : `${this.node.path} targets Kubernetes ${this.version}, where native sidecars need the SidecarContainers feature gate ` +
          '(alpha, off by default); set sidecarContainersFeatureGate: true if every 1.28 cluster has it on, or target 1.29 or later';
    }
    return `${this.node.path} targets Kubernetes ${this.version}, whose API server drops an init container's restartPolicy; ` +
      'native sidecars need 1.29 or later (1.28 with the SidecarContainers feature gate)';
  }
}
