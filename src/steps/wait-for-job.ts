import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { InitStep, InitStepOptions } from '../init-step';
import { assertJob } from '../private/identity';
import { CURL_IMAGE } from '../private/image';
import { literalEnv } from '../private/kubelet-literal';
import { stepOwner, timeoutSeconds } from '../private/step-values';
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
 * kubelet's KUBERNETES_SERVICE_HOST/PORT, a service-account token and the
 * cluster CA), polling with backoff (0.5 s up to 5 s). Wherever it is added,
 * the access it needs is wired in: a Role allowing `get` on that one Job, in
 * the Job's namespace, bound to the workload's service account (one per
 * workload, created if it has none, shared by all its WaitForJob steps). Only
 * this step's container gets the token, through a projected volume; the pod's
 * `automountServiceAccountToken` is left as it is, so app containers get none.
 *
 * The Job must stay after it completes: new replicas read it. A Job removed
 * later (by `ttlSecondsAfterFinished`, or by hand) is "not found" to them, as
 * one not created yet, and they wait until the timeout. So a Job with a TTL is
 * refused at synthesis; after a manual deletion, re-apply the manifests.
 */
export class WaitForJob extends InitStep {
  /** The Job waited for. */
  public readonly job: kplus.Job;

  constructor(scope: Construct, id: string, props: WaitForJobProps) {
    const owner = stepOwner('WaitForJob', scope, id);
    const timeout = props.timeout ?? Duration.minutes(10);
    const job = props.job;
    assertJob(owner, job);
    if (job.ttlAfterFinished !== undefined) {
      throw new Error(
        `${owner}: job ${job.node.path} has ttlAfterFinished ${job.ttlAfterFinished.toHumanString()}; once it is removed, ` +
        'new replicas cannot tell it completed and wait until their timeout. Remove ttlAfterFinished from the Job',
      );
    }
    const namespace = job.metadata.namespace;
    // Read once: a MigrationJob's name renders its Job to hash it.
    const jobName = job.name;
    super(scope, id, {
      ...props,
      image: props.image ?? CURL_IMAGE,
      command: shellCommand('lib.sh', 'wait-for-job.sh'),
      env: {
        JOB_NAME: literalEnv(jobName),
        ...namespace ? { JOB_NAMESPACE: literalEnv(namespace) } : {},
        WAIT_TIMEOUT: literalEnv(String(timeoutSeconds(owner, 'timeout', timeout))),
      },
      timeout,
      description: `waits for job ${jobName} to complete`,
    });
    this.job = job;
  }

  protected onAddedTo(workload: kplus.AbstractPod): void {
    WorkloadInit.of(workload).grantJobRead(this, this.job);
  }
}
