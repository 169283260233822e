import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { assertWorkload } from './private/identity';
import { hardeningPatches, podSpecPath, valueAt } from './private/pod-spec-path';

/**
 * Options for hardening app containers.
 */
export interface AppContainerHardeningOptions {
  /**
   * Also add NET_BIND_SERVICE, the one capability the restricted level allows,
   * for an app that listens on a port below 1024. Kubernetes gives a non-root
   * process no ambient capabilities, so the capability takes effect only for
   * an executable that carries it as a file capability (`setcap
   * cap_net_bind_service+ep`); otherwise listen on a port from 1024 (seen on a
   * real kubelet: CapEff 0, `bind: Permission denied` on port 80).
   *
   * @default false
   */
  readonly netBindService?: boolean;
}

/** The child of a hardened workload that checks, at synthesis, that no app container was missed. */
const CHILD_ID = 'cdk8s-init-app-hardening';

/**
 * Hardens a workload's app containers to the Pod Security Standards
 * "restricted" level, so a namespace labelled
 * `pod-security.kubernetes.io/enforce=restricted` admits the pod (the library's
 * steps already are). cdk8s-plus-27 sets non-root, no privilege escalation and
 * a read-only root filesystem by default, but cannot express the rest: this
 * adds `capabilities.drop: [ALL]` and `seccompProfile: RuntimeDefault` to every
 * app container.
 *
 * Check the result with `InitContainerPolicy.check(chart, { wholePod: true })`
 * or `cdk8s-init-policy --whole-pod`.
 */
export class AppContainerHardening {
  /**
   * Hardens every app container `workload` has now; call it after adding them
   * all (synthesis fails naming any app container added later). Fails at once
   * for a container whose own settings the restricted level forbids (root,
   * privileged, privilege escalation, capabilities other than NET_BIND_SERVICE),
   * since those are decisions to change where the container is defined.
   */
  public static restrict(workload: kplus.AbstractPod, options: AppContainerHardeningOptions = {}): void {
    assertWorkload('AppContainerHardening.restrict', workload);
    const owner = `AppContainerHardening.restrict: workload ${workload.node.path}`;
    const spec = podSpecPath(workload);
    const patches = workload.containers.flatMap((c, i) => {
      const add = [...assertRestrictable(owner, c)];
      if (options.netBindService && !add.includes('NET_BIND_SERVICE')) add.push('NET_BIND_SERVICE');
      const at = `${spec}/containers/${i}`;
      return hardeningPatches(at, c.name, add);
    });
    ApiObject.of(workload).addJsonPatch(...patches);
    if (!workload.node.tryFindChild(CHILD_ID)) new HardeningCheck(workload, spec);
  }

  private constructor() {}
}

/** The capabilities a container keeps (as Kubernetes names them), or throws naming what the restricted level forbids. */
function assertRestrictable(owner: string, c: kplus.Container): string[] {
  const sc = c.securityContext;
  const problem = (what: string, fix: string) => new Error(`${owner}: container "${c.name}" ${what}, which the restricted level forbids; ${fix}`);
  if (!sc.ensureNonRoot) throw problem('has securityContext.ensureNonRoot false', 'leave ensureNonRoot at its default (true)');
  if (sc.user === 0) throw problem('runs as user 0', 'give it a non-root securityContext.user');
  if (sc.privileged) throw problem('is privileged', 'remove securityContext.privileged');
  if (sc.allowPrivilegeEscalation) throw problem('allows privilege escalation', 'remove securityContext.allowPrivilegeEscalation');
  const add = (sc.capabilities?.add ?? []).map(cap => String(cap).replace(/^CAP_/, ''));
  const forbidden = add.filter(cap => cap !== 'NET_BIND_SERVICE');
  if (forbidden.length > 0) throw problem(`adds capabilities ${forbidden.join(', ')}`, 'add none but NET_BIND_SERVICE');
  return add;
}

/** Fails synthesis for an app container added after `restrict()` and so left unhardened. */
class HardeningCheck extends Construct {
  constructor(private readonly workload: kplus.AbstractPod, private readonly specPath: string) {
    super(workload, CHILD_ID);
    workload.node.addValidation({ validate: () => this.validate() });
  }

  private validate(): string[] {
    let spec: any;
    try {
      spec = valueAt(ApiObject.of(this.workload).toJson(), this.specPath);
    } catch {
      return []; // the workload's own validation or synthesis reports why it cannot render
    }
    const podSeccomp = spec?.securityContext?.seccompProfile?.type;
    return (spec?.containers ?? [])
      .filter((c: any) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL') || (c.securityContext?.seccompProfile?.type ?? podSeccomp) === undefined)
      .map((c: any) => `app container "${c.name}" is not hardened: it was added after AppContainerHardening.restrict(); call restrict() once every container is added`);
  }
}
