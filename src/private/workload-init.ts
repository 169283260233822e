import { createHash } from 'crypto';
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { brand, brandOf, twoCopiesError, WORKLOAD_INIT_BRAND } from './identity';
import { literalEnv } from './kubelet-literal';
import { podSpecRepairs, sidecarPatches } from './line';
import { pathsOverlap } from './mount-paths';
import { suffixedLabel, truncationNote } from './names';
import { hardeningPatches, podSpecPath, valueAt } from './pod-spec-path';
import { waiverAnnotations } from './waivers';
import type { InitStep } from '../init-step';
import { KubernetesTarget } from '../kubernetes-target';
import { SharedVolume } from '../shared-volume';
import { WaitForService } from '../steps/wait-for-service';

/** The construct id of the model under its workload. */
const CHILD_ID = 'cdk8s-init';

/** The projected volume that gives a step (and only that step) the pod's service-account token. */
const API_TOKEN_VOLUME = 'cdk8s-init-api-token';

/** Where in-cluster clients look for the token, CA and namespace. */
const API_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** One step's container in the workload. */
interface StepEntry {
  readonly step: InitStep;
  readonly list: 'initContainers' | 'containers';
  /** The step's container; undefined when it was merged into the entry before it. */
  readonly container?: kplus.Container;
  /** Whether the container gets the pod's service-account token. */
  apiToken: boolean;
  /** For a WaitForService container that later waits were merged into: every target it checks. */
  waitTargets?: string[];
}

/** A step's need for a pod fsGroup. */
interface FsGroupClaim {
  readonly group: number;
  readonly by: string;
}

/**
 * What cdk8s-init decides about one workload, kept in one model and rendered
 * once, at synthesis, from its final state (as cdk8s-plus renders a pod spec
 * from its model with `_toKube()`): the steps and their containers' hardening
 * (termination message policy, seccomp, capabilities), the pod-level fields the
 * library sets (fsGroup, service account), the volumes, and the API token
 * given to steps that read the Kubernetes API. Later decisions change the
 * model, never earlier output, and conflicting ones fail naming both sides.
 *
 * It is a child construct of its workload, so the state lives on the construct
 * tree, not in module-level maps that a second copy of the library cannot see.
 */
export class WorkloadInit extends Construct {
  /** The model of `workload`, created on first use. */
  public static of(workload: kplus.AbstractPod): WorkloadInit {
    return WorkloadInit.find(workload) ?? new WorkloadInit(workload);
  }

  /** The model of `workload`, if any step was added to it. */
  public static find(workload: kplus.AbstractPod): WorkloadInit | undefined {
    const child = workload.node.tryFindChild(CHILD_ID);
    if (child === undefined) return undefined;
    if (child instanceof WorkloadInit) return child;
    const other = brandOf(child, WORKLOAD_INIT_BRAND);
    if (other) throw twoCopiesError(`workload ${workload.node.path}`, 'its init sequence', other);
    throw new Error(`workload ${workload.node.path} has a child "${CHILD_ID}" that is not cdk8s-init's model`);
  }

  /** The workload. */
  public readonly workload: kplus.AbstractPod;
  private readonly entries: StepEntry[] = [];
  private readonly volumesByName = new Map<string, SharedVolume>();
  private readonly fsGroups: FsGroupClaim[] = [];
  private readonly jobReaders = new Map<kplus.Job, kplus.RoleBinding>();
  private account?: kplus.IServiceAccount;
  private readonly specPath: string;

  private constructor(workload: kplus.AbstractPod) {
    super(workload, CHILD_ID);
    brand(this, WORKLOAD_INIT_BRAND);
    this.workload = workload;
    this.specPath = podSpecPath(workload);
    workload.node.addValidation({ validate: () => this.validate() });
    // Render the model into the workload's manifest whenever it is synthesized.
    const apiObject = ApiObject.of(workload);
    const toJson = apiObject.toJson.bind(apiObject);
    apiObject.toJson = () => {
      const rendered = toJson();
      const repairs = podSpecRepairs(workload, this.specPath, rendered);
      const json = repairs.length > 0 ? JsonPatch.apply(rendered, ...repairs) : rendered;
      const patched = JsonPatch.apply(json, ...this.render(json));
      // In key order, as cdk8s writes every other field, so the YAML does not depend on who set a field.
      const parent = valueAt(patched, this.specPath.slice(0, this.specPath.lastIndexOf('/')) || '');
      const key = this.specPath.slice(this.specPath.lastIndexOf('/') + 1);
      if (parent?.[key]) parent[key] = sortKeysInPlace(parent[key]);
      return patched;
    };
  }

  /** Init steps, in order. */
  public get steps(): InitStep[] {
    return this.entries.filter(e => e.list === 'initContainers').map(e => e.step);
  }

  /** What the container named `name` does, in words: its step's description and those of the steps merged into it. */
  public describeContainer(name: string): string | undefined {
    const index = this.entries.findIndex(e => e.container && e.step.name === name);
    if (index < 0) return undefined;
    const merged = this.entries.slice(index + 1).findIndex(e => e.container);
    const runs = this.entries.slice(index, merged < 0 ? undefined : index + 1 + merged).map(e => e.step.description).filter(d => d);
    return runs.length > 0 ? runs.join('; ') : undefined;
  }

  /** Adds `step`, after its prerequisites, as the next init container(s) of the workload. */
  public apply(step: InitStep): void {
    for (const before of step.prerequisites) {
      // A wait for what an earlier step of this workload already waited for adds only start time.
      if (before instanceof WaitForService && before.targets.every(t => this.waitedFor().has(t.spec))) continue;
      this.apply(before);
    }
    this.add(step, 'initContainers');
  }

  /** Targets the workload's WaitForService steps wait for so far. */
  private waitedFor(): Set<string> {
    return new Set(this.entries.flatMap(e => e.step instanceof WaitForService ? e.step.targets.map(t => t.spec) : []));
  }

  /**
   * Adds `step` as a main container (after its prerequisites as init containers),
   * with the same checks, hardening and termination-message settings as init steps.
   */
  public applyAsMain(step: InitStep): void {
    for (const before of step.prerequisites) this.apply(before);
    this.add(step, 'containers');
  }

  /**
   * Records that `by` needs the pod's fsGroup to be `group`. Fails at once when
   * the workload's own fsGroup or another step needs a different one.
   */
  public requireFsGroup(by: InitStep, group: number): void {
    const owner = `${by.constructor.name} ${by.node.path}`;
    const own = this.workload.securityContext.fsGroup;
    if (own !== undefined && own !== group) {
      throw new Error(`${owner}: needs fsGroup ${group}, but workload ${this.workload.node.path} sets fsGroup ${own}; a pod has one fsGroup`);
    }
    const other = this.fsGroups.find(c => c.group !== group);
    if (other) {
      throw new Error(`${owner}: needs fsGroup ${group}, but ${other.by} in workload ${this.workload.node.path} needs fsGroup ${other.group}; a pod has one fsGroup`);
    }
    this.fsGroups.push({ group, by: owner });
  }

  /** The fsGroup a step needs for the pod (see `requireFsGroup`), if any needs one so far. */
  public get requiredFsGroup(): number | undefined {
    return this.fsGroups[0]?.group;
  }

  /**
   * Lets `step` read `job` from the Kubernetes API: the workload's service
   * account (one per workload, created if it has none) is bound, in the Job's
   * namespace, to a Role allowing `get` on that one Job, and only the step's
   * container gets the account's token (a projected volume).
   */
  public grantJobRead(step: InitStep, job: kplus.Job): void {
    const owner = `${step.constructor.name} ${step.node.path}`;
    const entry = this.entries.find(e => e.step === step);
    if (!entry) throw new Error(`${owner}: add the step to workload ${this.workload.node.path} before granting it API access`);
    entry.apiToken = true;
    if (this.jobReaders.has(job)) return;
    const workloadNamespace = this.workload.metadata.namespace;
    const jobNamespace = job.metadata.namespace;
    // With one namespace unknown, the Role, the binding and the script's lookup could end up in different ones.
    if ((jobNamespace === undefined) !== (workloadNamespace === undefined)) {
      const [known, unknown] = jobNamespace !== undefined
        ? [`job ${job.node.path} is in namespace "${jobNamespace}"`, `workload ${this.workload.node.path}`]
        : [`workload ${this.workload.node.path} is in namespace "${workloadNamespace}"`, `job ${job.node.path}`];
      throw new Error(
        `${owner}: ${known} but ${unknown} has no namespace, so the RoleBinding cannot name both sides; ` +
        'give both (or their charts) a namespace, or neither',
      );
    }
    const account = this.serviceAccount();
    this.claimVolumeName(owner, API_TOKEN_VOLUME);
    const role = jobReaderRole(job);
    const binding = jobReaderBinding(role, job, account.name, workloadNamespace);
    // Applied in order, the account and its access exist before a pod that uses them.
    const dependencies = [ApiObject.of(role), ApiObject.of(binding)];
    if (account !== this.workload.serviceAccount) dependencies.push(ApiObject.of(account));
    ApiObject.of(this.workload).addDependency(...dependencies);
    this.jobReaders.set(job, binding);
  }

  private serviceAccount(): kplus.IServiceAccount {
    if (!this.account) {
      this.account = this.workload.serviceAccount ?? new kplus.ServiceAccount(this, 'ServiceAccount', {
        metadata: { name: suffixedLabel(this.workload.name, 'init'), namespace: this.workload.metadata.namespace },
        // Only the steps that need it get the token, through their own projected volume.
        automountToken: false,
      });
    }
    return this.account;
  }

  private add(step: InitStep, list: 'initContainers' | 'containers'): void {
    const where = `workload ${this.workload.node.path}`;
    const owner = `${step.constructor.name} ${step.node.path}`;
    if (this.entries.some(e => e.step === step)) {
      throw new Error(`${owner}: this step is already in the init sequence of ${where}; a step runs once per pod`);
    }
    if (step.sidecar && list === 'containers') {
      throw new Error(`${owner}: a sidecar is an init container with restartPolicy: Always; add it to the init sequence of ${where}, not as a main container`);
    }
    const clash = [...this.workload.initContainers, ...this.workload.containers].find(c => c.name === step.name);
    if (clash) {
      const other = this.entries.find(e => e.step.name === step.name)?.step;
      const note = other ? truncationNote(step.name, [step.node.id, other.node.id]) : '';
      throw new Error(`${owner}: container name "${step.name}" is already used in ${where}${note}; give the step a unique id or name`);
    }
    for (const m of [...step.reads, ...step.writes]) this.claimSharedVolume(owner, m.volume);
    for (const r of step.reads) {
      if (!r.volume.prePopulated && !r.volume._isWrittenIn(this.workload)) {
        throw new Error(
          `${owner}: reads volume "${r.volume.name}" but no earlier step in ${where} writes it; ` +
          'add a step that writes it before this one, or mark the volume prePopulated',
        );
      }
    }

    // The container of the last init step (steps merged into it have none).
    const last = this.entries[this.entries.length - 1];
    const previous = last?.list === 'initContainers' ? this.entries.filter(e => e.container).pop() : undefined;
    if (list === 'initContainers' && previous?.list === 'initContainers' && previous.container && canMerge(previous.step, step)) {
      // One container checks all the steps' targets in parallel: each init container costs start time.
      previous.waitTargets = [...new Set([...previous.waitTargets ?? (previous.step as WaitForService).targets.map(t => t.spec),
        ...(step as WaitForService).targets.map(t => t.spec)])];
      previous.container.env.addVariable('WAIT_TARGETS', literalEnv(previous.waitTargets.join('\n')));
      this.entries.push({ step, list, apiToken: false });
      step._notifyAddedTo(this.workload);
      return;
    }

    const props = step._toContainerProps();
    const container = list === 'initContainers' ? this.workload.addInitContainer(props) : this.workload.addContainer(props);
    for (const w of step.writes) w.volume._markWrittenIn(this.workload);
    for (const [key, value] of Object.entries(waiverAnnotations(step.security, step.name))) {
      this.workload.podMetadata.addAnnotation(key, value);
    }
    this.entries.push({ step, list, container, apiToken: false });
    step._notifyAddedTo(this.workload);
  }

  private claimSharedVolume(owner: string, volume: SharedVolume): void {
    const existing = this.volumesByName.get(volume.name);
    if (existing && existing !== volume) {
      throw new Error(
        `${owner}: volume name "${volume.name}" is used by two shared volumes ` +
        `(${existing.node.path} and ${volume.node.path}) in workload ${this.workload.node.path}` +
        truncationNote(volume.name, [existing.node.id, volume.node.id]),
      );
    }
    if (volume.name === API_TOKEN_VOLUME) throw new Error(`${owner}: volume name "${API_TOKEN_VOLUME}" is reserved by cdk8s-init`);
    this.volumesByName.set(volume.name, volume);
  }

  private claimVolumeName(owner: string, name: string): void {
    if (this.volumesByName.has(name) || this.workload.volumes.some(v => v.name === name)) {
      throw new Error(`${owner}: volume name "${name}" is reserved by cdk8s-init and already used in workload ${this.workload.node.path}`);
    }
  }

  /** The JSON patches that put the model's decisions into the synthesized workload. */
  private render(json: any): JsonPatch[] {
    const problems = this.validate();
    if (problems.length > 0) throw new Error(`workload ${this.workload.node.path}: ${problems.join('; ')}`);
    const spec = valueAt(json, this.specPath);
    const patches: JsonPatch[] = [];
    for (const entry of this.entries.filter(e => e.container)) {
      const containers: any[] = spec[entry.list] ?? [];
      const index = containers.findIndex(c => c.name === entry.step.name);
      if (index < 0) {
        throw new Error(`workload ${this.workload.node.path}: the container "${entry.step.name}" of ${entry.step.node.path} is missing from the manifest`);
      }
      const at = `${this.specPath}/${entry.list}/${index}`;
      const added = entry.step.security.addedCapabilities;
      patches.push(
        ...hardeningPatches(at, entry.step.name, added),
        JsonPatch.add(`${at}/terminationMessagePolicy`, 'FallbackToLogsOnError'),
        ...entry.step.sidecar ? sidecarPatches(at, entry.container!, entry.step.sidecar) : [],
      );
      if (entry.apiToken) {
        const mount = { name: API_TOKEN_VOLUME, mountPath: API_TOKEN_PATH, readOnly: true };
        patches.push(containers[index].volumeMounts
          ? JsonPatch.add(`${at}/volumeMounts/-`, mount)
          : JsonPatch.add(`${at}/volumeMounts`, [mount]));
      }
    }
    if (this.entries.some(e => e.apiToken)) {
      patches.push(spec.volumes ? JsonPatch.add(`${this.specPath}/volumes/-`, API_TOKEN_SOURCE) : JsonPatch.add(`${this.specPath}/volumes`, [API_TOKEN_SOURCE]));
    }
    if (this.account && this.account !== this.workload.serviceAccount) {
      const set = spec.serviceAccountName;
      if (set !== undefined && set !== this.account.name) {
        throw new Error(
          `workload ${this.workload.node.path}: its manifest sets serviceAccountName "${set}" (a JSON patch), but ` +
          `${this.jobReaders.size} WaitForJob step(s) need the service account "${this.account.name}"; pass the account as the workload's serviceAccount instead`,
        );
      }
      patches.push(JsonPatch.add(`${this.specPath}/serviceAccountName`, this.account.name));
    }
    const fsGroup = this.fsGroups[0]?.group;
    const manifestFsGroup = spec.securityContext?.fsGroup;
    if (fsGroup !== undefined && manifestFsGroup !== undefined && manifestFsGroup !== fsGroup) {
      throw new Error(`workload ${this.workload.node.path}: its manifest sets fsGroup ${manifestFsGroup}, but ${this.fsGroups[0].by} needs fsGroup ${fsGroup}; a pod has one fsGroup`);
    }
    if (fsGroup !== undefined && manifestFsGroup === undefined) {
      const context = spec.securityContext;
      patches.push(context
        ? JsonPatch.add(`${this.specPath}/securityContext/fsGroup`, fsGroup)
        : JsonPatch.add(`${this.specPath}/securityContext`, { fsGroup }));
      // Only re-own the volume when its root does not match: fast on large volumes.
      patches.push(JsonPatch.add(`${this.specPath}/securityContext/fsGroupChangePolicy`, 'OnRootMismatch'));
    }
    return patches;
  }

  /** Rules that need the whole pod, including main containers added later. */
  private validate(): string[] {
    const errors: string[] = [];
    const containers = [...this.workload.initContainers, ...this.workload.containers];
    const seen = new Set<string>();
    for (const c of containers) {
      if (seen.has(c.name)) errors.push(`container name "${c.name}" is used twice; container names must be unique in a pod`);
      seen.add(c.name);
    }
    for (const c of this.workload.containers) errors.push(...this.validateMountPaths(c));
    errors.push(...this.validateVolumeNames(containers));
    errors.push(...this.validateSidecars());
    return errors;
  }

  /** Native sidecars need a cluster that keeps their restartPolicy: the declared Kubernetes version says so, or synthesis fails. */
  private validateSidecars(): string[] {
    const sidecars = this.entries.filter(e => e.container && e.step.sidecar).map(e => `"${e.step.name}" (${e.step.node.path})`);
    if (sidecars.length === 0) return [];
    const what = `${sidecars.length === 1 ? 'init step' : 'init steps'} ${sidecars.join(', ')} ${sidecars.length === 1 ? 'is a native sidecar' : 'are native sidecars'}`;
    const target = KubernetesTarget.of(this.workload);
    if (!target) {
      return [
        `${what} (restartPolicy: Always), which an API server older than 1.28 accepts and drops, leaving an init container ` +
        'that never exits and a pod that never starts; declare the Kubernetes version the manifests are for on the app or ' +
        "chart: new KubernetesTarget(app, 'KubernetesTarget', { version: '1.29' })",
      ];
    }
    const problem = target.nativeSidecarProblem;
    return problem ? [`${what}, but ${problem}`] : [];
  }

  private validateMountPaths(container: kplus.Container): string[] {
    const mounts = container.mounts;
    const errors: string[] = [];
    for (let i = 0; i < mounts.length; i++) {
      for (let j = i + 1; j < mounts.length; j++) {
        const [p, other] = [mounts[i].path, mounts[j].path];
        if (pathsOverlap(p, other)) errors.push(`container "${container.name}" has overlapping mounts at "${p}" and "${other}"`);
      }
    }
    return errors;
  }

  private validateVolumeNames(containers: kplus.Container[]): string[] {
    const byName = new Map<string, kplus.Volume>();
    const errors = new Set<string>();
    const check = (v: kplus.Volume) => {
      const other = byName.get(v.name);
      if (other && other !== v) errors.add(`two different volumes are named "${v.name}"; volume names must be unique in a pod`);
      if (v.name === API_TOKEN_VOLUME && this.entries.some(e => e.apiToken)) errors.add(`volume name "${API_TOKEN_VOLUME}" is reserved by cdk8s-init`);
      byName.set(v.name, v);
    };
    for (const v of this.workload.volumes) check(v);
    for (const c of containers) for (const m of c.mounts) check(m.volume);
    return [...errors];
  }
}

/** `value` with the keys of every object in it sorted (arrays keep their order). */
export function sortedKeys(value: any): any {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map(k => [k, sortedKeys(value[k])]));
}

/**
 * `sortedKeys(value)`, reusing `value`'s objects whose keys are already in order
 * (all that cdk8s wrote; only those the render's patches added keys to are not):
 * the same result without copying the whole pod spec of every workload.
 */
function sortKeysInPlace(value: any): any {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = sortKeysInPlace(value[i]);
    return value;
  }
  const keys = Object.keys(value);
  let inOrder = true;
  for (let i = 1; i < keys.length && inOrder; i++) inOrder = keys[i - 1] < keys[i];
  if (!inOrder) {
    keys.sort();
    // An assignment to "__proto__" would set the prototype: Object.fromEntries defines it as a key.
    if (keys.includes('__proto__')) return Object.fromEntries(keys.map(k => [k, sortKeysInPlace(value[k])]));
    const out: any = {};
    for (const k of keys) out[k] = sortKeysInPlace(value[k]);
    return out;
  }
  for (const k of keys) value[k] = sortKeysInPlace(value[k]);
  return value;
}

/**
 * Whether `next` can run in `previous`'s container: both are WaitForService steps
 * that allow it, with the same image, settings, resources and security.
 */
function canMerge(previous: InitStep, next: InitStep): boolean {
  if (!(previous instanceof WaitForService) || !(next instanceof WaitForService)) return false;
  if (!previous.mergeAdjacent || !next.mergeAdjacent) return false;
  const settings = (s: InitStep) => JSON.stringify({
    image: s.image,
    pullPolicy: s.imagePullPolicy,
    resources: s.resources,
    context: s.security.context,
    capabilities: s.security.addedCapabilities,
    reason: s.security.optOutReason,
    env: Object.entries(s.env).filter(([name]) => name !== 'WAIT_TARGETS').map(([name, v]) => [name, v.value ?? null, v.valueFrom ?? null]),
  });
  return settings(previous) === settings(next);
}

/** A bound service-account token (refreshed by the kubelet), the cluster CA and the namespace, as the kubelet's own. */
const API_TOKEN_SOURCE = {
  name: API_TOKEN_VOLUME,
  projected: {
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  },
};

/** The Role allowing `get` on one Job, in its namespace: one per Job, however many workloads wait for it. */
/**
 * The RoleBinding of the Job's reader Role to one service account: one per
 * account, however many workloads use that account, named after the Job and a
 * hash of the account (names in two namespaces may be equal).
 */
function jobReaderBinding(role: kplus.Role, job: kplus.Job, account: string, namespace?: string): kplus.RoleBinding {
  const hash = createHash('sha256').update(`${namespace ?? ''}/${account}`).digest('hex').slice(0, 8);
  const id = `binding-${hash}`;
  const existing = role.node.tryFindChild(id);
  if (existing instanceof kplus.RoleBinding) return existing;
  const binding = new kplus.RoleBinding(role, id, {
    metadata: { name: suffixedLabel(`${job.name}-reader`, hash), namespace: job.metadata.namespace },
    role,
  });
  binding.addSubjects(new NamespacedServiceAccount(role, `subject-${hash}`, account, namespace));
  return binding;
}

function jobReaderRole(job: kplus.Job): kplus.Role {
  const id = 'cdk8s-init-reader';
  const existing = job.node.tryFindChild(id);
  if (existing instanceof kplus.Role) return existing;
  const role = new kplus.Role(job, id, {
    metadata: { name: suffixedLabel(job.name, 'reader'), namespace: job.metadata.namespace },
  });
  // The wait script only reads the Job's status.
  role.allow(['get'], job);
  return role;
}

/** A RoleBinding subject naming a service account with its namespace, which may differ from the binding's. */
class NamespacedServiceAccount extends Construct implements kplus.ISubject {
  constructor(scope: Construct, id: string, private readonly accountName: string, private readonly namespace?: string) {
    super(scope, id);
  }

  public toSubjectConfiguration(): kplus.SubjectConfiguration {
    return { kind: 'ServiceAccount', name: this.accountName, namespace: this.namespace };
  }
}
