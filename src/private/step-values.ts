import { Duration } from 'cdk8s';
import { Construct } from 'constructs';

/**
 * How errors name a step before its construct exists ("Kind chart/id"), for
 * checks that must run before `super()`.
 */
export function stepOwner(kind: string, scope: Construct, id: string): string {
  return `${kind} ${scope.node.path ? `${scope.node.path}/` : ''}${id}`;
}

/** A duration as given, for messages: "500 millis", "NaN". */
function describeDuration(d: Duration, ms: number): string {
  return Number.isNaN(ms) ? 'NaN' : d.toHumanString();
}

/** Milliseconds of `d`, or throws naming the owner and the value unless it is a finite Duration. */
export function durationMillis(owner: string, what: string, d: Duration): number {
  if (d === null || typeof d !== 'object' || typeof d.toMilliseconds !== 'function') {
    throw new Error(`${owner}: ${what} ${JSON.stringify(d)} is not a Duration; give e.g. Duration.seconds(30)`);
  }
  const ms = d.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms)) {
    throw new Error(`${owner}: ${what} ${describeDuration(d, ms)} is not a finite duration; give e.g. Duration.seconds(30)`);
  }
  return ms;
}

/**
 * A step's timeout as whole seconds (rounded up), what `timeout` and the
 * scripts' deadlines take. Every step uses this rule: under 1 s (or NaN) is an
 * error naming the value, never silently 1 s.
 *
 * @param owner the construct path named in the error
 * @param what the prop, e.g. "timeout" or "attemptTimeout"
 */
export function timeoutSeconds(owner: string, what: string, d: Duration): number {
  const ms = durationMillis(owner, what, d);
  if (ms < 1000) {
    throw new Error(`${owner}: ${what} ${describeDuration(d, ms)} is under 1 second; give at least Duration.seconds(1)`);
  }
  return Math.ceil(ms / 1000);
}

/**
 * `check` with its results kept by its first argument: for pure checks and
 * normalizations of strings that thousands of steps repeat (the same image,
 * host, URL or path in every workload of an app). The other arguments (such as
 * the owner an error names) must not change the result. Only results are kept:
 * a call that throws is made again next time, so its error names that call's
 * owner. At most `max` results are kept; then the cache starts over.
 */
export function memoized<T, R extends unknown[] = []>(check: (value: string, ...rest: R) => T, max: number = 1024): (value: string, ...rest: R) => T {
  const results = new Map<string, T>();
  return (value: string, ...rest: R): T => {
    if (results.has(value)) return results.get(value)!;
    const result = check(value, ...rest);
    if (results.size >= max) results.clear();
    results.set(value, result);
    return result;
  };
}
