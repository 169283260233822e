import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CURL_IMAGE } from './config-source';
import { InitStep, InitStepOptions } from '../init-step';
import { literalEnv } from '../private/kubelet-literal';
import { wholeSeconds } from '../private/step-values';
import { WorkloadInit } from '../private/workload-init';
import { shellCommand } from '../shell/scripts';

/**
 * Properties of a `WaitForJob` step.
 */
export interface WaitForJobProps extends InitStepOptions {
  /** The Job to wait for. */
  readonly job: kplus.Job;

  /**
   * Overall timeout.
   *
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;

  /**
   * Image with curl and busybox.
   *
   * @default "curlimages/curl:8.11.1"
   */
  readonly image?: string;
}

/**
 * Blocks the pod until a Job has completed, and fails at once if the Job failed.
 *
 * It reads the Job from the Kubernetes API as in-cluster clients do (the
 * kubelet's KUBERNETES_SERVICE_HOST/PORT, the mounted service account token and
 * CA), polling with backoff (0.5 s up to 5 s). Wherever it is added, the RBAC
 * it needs is wired in: a Role allowing get/list/watch on that one Job, bound
 * to the workload's service account (a new one if the workload has none), and
 * the token mounted (`automountServiceAccountToken: true`).
 */
export class WaitForJob extends InitStep {
  /** The Job waited for. */
  public readonly job: kplus.Job;
  private role?: kplus.Role;
  private readonly boundAccounts = new Set<kplus.IServiceAccount>();

  constructor(scope: Construct, id: string, props: WaitForJobProps) {
    const timeout = props.timeout ?? Duration.minutes(10);
    const job = props.job;
    if (!(job instanceof kplus.Job)) {
      throw new Error(`WaitForJob ${scope.node.path}/${id}: job must be a cdk8s-plus Job`);
    }
    const namespace = job.metadata.namespace;
    super(scope, id, {
      ...props,
      image: props.image ?? CURL_IMAGE,
      command: shellCommand('lib.sh', 'wait-for-job.sh'),
      env: {
        JOB_NAME: literalEnv(job.name),
        ...namespace ? { JOB_NAMESPACE: literalEnv(namespace) } : {},
        WAIT_TIMEOUT: literalEnv(String(wholeSeconds(timeout))),
      },
      timeout,
      description: `waits for job ${job.name} to complete`,
    });
    this.job = job;
  }

  protected onAddedTo(workload: kplus.AbstractPod): void {
    const state = WorkloadInit.of(workload);
    let account = workload.serviceAccount;
    if (!account) {
      account = new kplus.ServiceAccount(workload, `${this.node.id}-service-account`, { automountToken: false });
      state.patchPodSpec('serviceAccountName', account.name);
    }
    state.patchPodSpec('automountServiceAccountToken', true);
    if (!this.role) {
      this.role = new kplus.Role(this, 'Role');
      this.role.allow(['get', 'list', 'watch'], this.job);
    }
    // Workloads may share a service account; bind it once.
    if (!this.boundAccounts.has(account)) {
      this.boundAccounts.add(account);
      this.role.bind(account);
    }
  }
}
