import { createHash } from 'crypto';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { MigrationInit, MigrationInitProps } from './migration-init';
import { WaitForJob } from './wait-for-job';
import { InitStepOptions } from '../init-step';
import { suffixedLabel, toDns1123Label } from '../names';
import { WorkloadInit } from '../private/workload-init';

/**
 * Properties of a `MigrationJob`.
 */
export interface MigrationJobProps extends MigrationInitProps {
  /**
   * Retries of a failed migration pod. A failed migration usually needs a human
   * (a dirty version, a stale lock), so the default is none.
   *
   * @default 0
   */
  readonly backoffLimit?: number;

  /**
   * Longest the Job may run before Kubernetes stops it.
   *
   * @default Duration.minutes(30)
   */
  readonly activeDeadline?: Duration;
}

/**
 * Options of the step that makes a workload wait for a `MigrationJob`.
 */
export interface WaitForMigrationOptions extends InitStepOptions {
  /**
   * Overall timeout.
   *
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
}

/**
 * Runs a migration once, as a Job, instead of in every replica's init
 * containers. The app's init sequence waits for it with `waitStep()`, which
 * also wires the RBAC that wait needs.
 *
 * The Job is named after its content (`<id>-<hash>`): its pod template is
 * immutable, so a new migration image or setting is a new Job, not a failed apply.
 */
export class MigrationJob extends Construct {
  /** The Job. */
  public readonly job: kplus.Job;

  /** The migration step, the Job's main container. */
  public readonly migration: MigrationInit;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    this.migration = new MigrationInit(this, 'migrate', { ...props, name: props.name ?? 'migrate' });
    this.job = new kplus.Job(this, 'Job', {
      metadata: { name: suffixedLabel(toDns1123Label(id), fingerprint(this.migration)) },
      backoffLimit: props.backoffLimit ?? 0,
      activeDeadline: props.activeDeadline ?? Duration.minutes(30),
    });
    WorkloadInit.of(this.job).applyAsMain(this.migration);
  }

  /**
   * A step that blocks a workload until this migration has completed, and fails
   * at once if it failed.
   */
  public waitStep(scope: Construct, id: string, options: WaitForMigrationOptions = {}): WaitForJob {
    return new WaitForJob(scope, id, { ...options, job: this.job });
  }
}

// Hash of what the migration container runs: same content, same Job name.
function fingerprint(step: MigrationInit): string {
  const env = Object.entries(step.env).map(([k, v]) => [k, v.value ?? null, JSON.stringify(v.valueFrom ?? null)]);
  const reads = step.reads.map(r => [r.volume.name, r.path]);
  const content = JSON.stringify({ image: step.image, command: step.command, args: step.args, env, reads });
  return createHash('sha256').update(content).digest('hex').slice(0, 8);
}
