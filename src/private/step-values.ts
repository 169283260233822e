import { Duration } from 'cdk8s';
import { Construct } from 'constructs';

/**
 * How errors name a step before its construct exists ("Kind chart/id"), for
 * checks that must run before `super()`.
 */
export function stepOwner(kind: string, scope: Construct, id: string): string {
  return `${kind} ${scope.node.path ? `${scope.node.path}/` : ''}${id}`;
}

/** A duration as whole seconds, rounded up and at least 1: what `timeout` and the scripts' deadlines take. */
export function wholeSeconds(d: Duration): number {
  return Math.max(1, Math.ceil(d.toMilliseconds() / 1000));
}
