import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';

/**
 * Recognising the library's own objects and cdk8s-plus workloads across module
 * copies. `instanceof` fails when an app loads two copies of a package (a team
 * pattern that bundles its own cdk8s-init, a monorepo link), so objects carry
 * `Symbol.for` brands, as cdk8s's `ApiObject.isApiObject` does, and errors say
 * which copies or cdk8s-plus lines met.
 */

/** Where this copy of cdk8s-init is installed: the value of every brand it sets. */
const LIBRARY_LOCATION = path.resolve(__dirname, '..', '..');

/** Brand of `InitStep` objects. */
export const INIT_STEP_BRAND = Symbol.for('cdk8s-init.InitStep');

/** Brand of the per-workload model (`WorkloadInit`). */
export const WORKLOAD_INIT_BRAND = Symbol.for('cdk8s-init.WorkloadInit');

const JSII_RTTI = Symbol.for('jsii.rtti');

/** The cdk8s-plus line this copy of the library is built for, e.g. "cdk8s-plus-27". */
export const CDK8S_PLUS_LINE = rttiChain(kplus.AbstractPod.prototype)[0]?.fqn.split('.')[0] ?? 'cdk8s-plus-27';

/**
 * The cdk8s-plus lines cdk8s-init has a package for, `cdk8s-init-plus-<line>`
 * (projenrc/lines.ts; test/lines/line.test.ts keeps the two lists equal).
 */
export const SUPPORTED_LINES = [27, 32, 33, 34];

/** Marks `target` as made by this copy of the library. */
export function brand(target: object, symbol: symbol): void {
  Object.defineProperty(target, symbol, { value: LIBRARY_LOCATION, enumerable: false });
}

/** The location of the copy of cdk8s-init that branded `target` with `symbol`, if any. */
export function brandOf(target: unknown, symbol: symbol): string | undefined {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return undefined;
  const value = (target as Record<symbol, unknown>)[symbol];
  return typeof value === 'string' ? value : undefined;
}

/** The error for an object made by another copy of cdk8s-init. */
export function twoCopiesError(owner: string, what: string, otherLocation: string): Error {
  return new Error(
    `${owner}: ${what} comes from another copy of cdk8s-init (${otherLocation}); this one is ${LIBRARY_LOCATION}. ` +
    'Two copies of cdk8s-init are installed and cannot share workloads or steps: make cdk8s-init a peerDependency ' +
    'of the package that bundles it, then run `npm dedupe`',
  );
}

/** The jsii type information of the classes of `target`, nearest first (e.g. `cdk8s-plus-33.Deployment`, …). */
function rttiChain(target: object): Array<{ fqn: string; version: string }> {
  const chain = [];
  for (let p: any = target; p; p = Object.getPrototypeOf(p)) {
    const rtti = Object.prototype.hasOwnProperty.call(p, 'constructor') ? p.constructor?.[JSII_RTTI] : undefined;
    if (rtti?.fqn && chain[chain.length - 1]?.fqn !== rtti.fqn) chain.push(rtti);
  }
  return chain;
}

/** Brand of `SharedVolume` objects. */
export const SHARED_VOLUME_BRAND = Symbol.for('cdk8s-init.SharedVolume');

/** Brand of `ConfigSource` objects. */
export const CONFIG_SOURCE_BRAND = Symbol.for('cdk8s-init.ConfigSource');

/**
 * Throws unless `target` is an instance of this copy's `type`: the two-copies
 * error when another copy of cdk8s-init made it (it carries `symbol`), else
 * "<what> must be <expected>".
 */
export function assertOwn(owner: string, what: string, target: unknown, type: Function, symbol: symbol, expected = `a ${type.name}`): void {
  if (target instanceof type) return;
  const other = brandOf(target, symbol);
  if (other) throw twoCopiesError(owner, what, other);
  const got = target === null || typeof target !== 'object' ? String(target) : target.constructor?.name ?? 'an object';
  throw new Error(`${owner}: ${what} must be ${expected}; got ${got}`);
}

/**
 * Throws unless `target` is a Job of the cdk8s-plus line (and copy) this
 * library uses, naming the line of a Job from another one.
 */
export function assertJob(owner: string, target: unknown): asserts target is kplus.Job {
  if (target instanceof kplus.Job) return;
  throw otherCdk8sPlusError(owner, `job ${describe(target)}`, target, 'Job', CDK8S_PLUS_LINE)
    ?? new Error(`${owner}: job must be a cdk8s-plus Job; got ${describe(target)}`);
}

/**
 * Throws a clear error unless `target` is a pod-bearing workload of the
 * cdk8s-plus line (and copy) this library uses: Pod, Deployment, StatefulSet,
 * Job, CronJob or DaemonSet.
 */
export function assertWorkload(owner: string, target: unknown): asserts target is kplus.AbstractPod {
  if (target instanceof kplus.AbstractPod) return;
  // A workload of some cdk8s-plus line: its classes include that line's AbstractPod.
  throw otherCdk8sPlusError(owner, describe(target), target, 'AbstractPod', `${CDK8S_PLUS_LINE} workloads`)
    ?? new Error(
      `${owner}: ${describe(target)} is not a pod-bearing workload; init steps attach to a cdk8s-plus ` +
      'Pod, Deployment, StatefulSet, Job, CronJob or DaemonSet',
    );
}

/**
 * When `target` is an instance of `base` (e.g. "Job") of a cdk8s-plus line or
 * copy other than this library's: the error naming that line, or the copy.
 */
function otherCdk8sPlusError(owner: string, subject: string, target: unknown, base: string, supported: string): Error | undefined {
  const chain = typeof target === 'object' && target !== null ? rttiChain(target) : [];
  const match = chain.find(r => new RegExp(`^cdk8s-plus-\\d+\\.${base}$`).test(r.fqn));
  if (!match) return undefined;
  const line = match.fqn.split('.')[0];
  const kind = chain[0].fqn.split('.')[1];
  const lineNumber = Number(line.replace('cdk8s-plus-', ''));
  const advice = SUPPORTED_LINES.includes(lineNumber)
    ? `install the package for the app's line instead: cdk8s-init-plus-${lineNumber}`
    : `cdk8s-init has packages for cdk8s-plus-${SUPPORTED_LINES.join(', ')}: use one of those lines for the app and its package cdk8s-init-plus-<line>`;
  return new Error(line !== CDK8S_PLUS_LINE
    ? `${owner}: ${subject} is a ${kind} of ${line} ${match.version}; this cdk8s-init (${CDK8S_PLUS_LINE.replace('cdk8s-plus', 'cdk8s-init-plus')}) ` +
      `supports ${supported}; ${advice}`
    : `${owner}: ${subject} comes from another copy of ${line} than the one cdk8s-init loads ` +
      `(${require.resolve(CDK8S_PLUS_LINE)}); make ${line} a single dependency of the app (npm dedupe)`);
}

function describe(target: unknown): string {
  if (target === null || target === undefined) return String(target);
  const node = (target as { node?: { path?: string } }).node;
  const kind = (target as object).constructor?.name ?? typeof target;
  return node?.path !== undefined ? `"${node.path}" (${kind})` : kind;
}
