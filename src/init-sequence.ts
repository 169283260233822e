import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { InitStep } from './init-step';
import { assertWorkload, brand, brandOf, INIT_STEP_BRAND, twoCopiesError } from './private/identity';
import { WorkloadInit } from './private/workload-init';

/**
 * Properties of an `InitSequence`.
 */
export interface InitSequenceProps {
  /**
   * Steps, in the order they run.
   *
   * @default - none; add them with `add()`
   */
  readonly steps?: InitStep[];
}

/**
 * An ordered list of init steps, applied to one or more workloads.
 *
 * Order in code is order in the manifest: steps run in the order they were
 * added. A sequence can be applied to several workloads; each gets its own init
 * containers and volumes, which is how a team shares an init pattern.
 *
 * ```ts
 * InitSequence.of(deployment).add(waitForDb, fetchConfig);
 * ```
 */
export class InitSequence extends Construct {
  /**
   * The workload's own sequence, created (and applied to it) on first use.
   */
  public static of(workload: kplus.AbstractPod): InitSequence {
    assertWorkload('InitSequence.of', workload);
    const existing = workload.node.tryFindChild(SEQUENCE_ID);
    if (existing instanceof InitSequence) return existing;
    if (existing) throw twoCopiesError(`InitSequence.of(${workload.node.path})`, 'its init sequence', brandOf(existing, SEQUENCE_BRAND) ?? 'unknown');
    return new InitSequence(workload, SEQUENCE_ID).applyTo(workload);
  }

  private readonly _steps: InitStep[] = [];
  private readonly _workloads: kplus.AbstractPod[] = [];
  // Membership of the two lists: a sequence a team applies to thousands of workloads checks each in O(1).
  private readonly stepSet = new Set<InitStep>();
  private readonly workloadSet = new Set<kplus.AbstractPod>();

  constructor(scope: Construct, id: string, props: InitSequenceProps = {}) {
    super(scope, id);
    brand(this, SEQUENCE_BRAND);
    this.add(...props.steps ?? []);
  }

  /** The steps, in order. */
  public get steps(): InitStep[] {
    return [...this._steps];
  }

  /** The workloads this sequence is applied to. */
  public get workloads(): kplus.AbstractPod[] {
    return [...this._workloads];
  }

  /**
   * Appends steps; they run after the steps already added, in the given order.
   * Workloads the sequence is already applied to get them too.
   */
  public add(...steps: InitStep[]): InitSequence {
    for (const step of steps) {
      if (!(step instanceof InitStep)) {
        const other = brandOf(step, INIT_STEP_BRAND);
        if (other) throw twoCopiesError(`InitSequence ${this.node.path}`, `step ${(step as InitStep).node.path}`, other);
        throw new Error(`InitSequence ${this.node.path}: add() takes InitStep objects; got ${String(step)}`);
      }
      if (this.stepSet.has(step)) {
        throw new Error(`InitSequence ${this.node.path}: step ${step.node.path} is added twice; a step runs once per pod`);
      }
      this._steps.push(step);
      this.stepSet.add(step);
      for (const workload of this._workloads) WorkloadInit.of(workload).apply(step);
    }
    return this;
  }

  /**
   * Adds this sequence's steps (and any added later) to a workload, after the
   * init containers it already has.
   */
  public applyTo(workload: kplus.AbstractPod): InitSequence {
    // The message (and its construct path) is only built for what is not a workload.
    if (!(workload instanceof kplus.AbstractPod)) assertWorkload(`InitSequence ${this.node.path}: applyTo`, workload);
    if (this.workloadSet.has(workload)) {
      throw new Error(`InitSequence ${this.node.path}: already applied to ${workload.node.path}`);
    }
    this._workloads.push(workload);
    this.workloadSet.add(workload);
    const state = WorkloadInit.of(workload);
    for (const step of this._steps) state.apply(step);
    return this;
  }
}

const SEQUENCE_ID = 'InitSequence';
const SEQUENCE_BRAND = Symbol.for('cdk8s-init.InitSequence');
