import { createHash } from 'crypto';
import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { MigrationInit, MigrationInitProps } from './migration-init';
import { WaitForJob } from './wait-for-job';
import { InitSequence } from '../init-sequence';
import { InitStep, InitStepOptions } from '../init-step';
import { assertOwn, INIT_STEP_BRAND } from '../private/identity';
import { PROXY_STARTED_BY_JOB } from '../private/migration-brands';
import { suffixedLabel, toDns1123Label } from '../private/names';
import { stepOwner } from '../private/step-values';
import { sortedKeys, WorkloadInit } from '../private/workload-init';

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

  /**
   * The service account the Job's pod runs as, e.g. the Kubernetes service
   * account that Workload Identity maps to the Google service account the
   * cloud-sql-proxy connects as.
   *
   * @default - the namespace's default service account
   */
  readonly serviceAccount?: kplus.IServiceAccount;

  /**
   * Steps that run in the Job's pod before the migration (and before its wait
   * for the database), in order, e.g. the `ConfigFetchInit` that fills the
   * shared volume of `MigrationSource.fromVolume`. With a `proxy`, they run
   * after it, so they can reach the database through it too.
   *
   * @default - none
   */
  readonly initSteps?: InitStep[];
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
 * The Job is named after its content (`<id>-<hash>`), because its pod template
 * is immutable and a completed Job never runs again. The hash covers the Job's
 * synthesized spec (every container, volume and setting of its pod, the
 * `initSteps` included) and the data of the ConfigMaps its pod uses that are
 * defined in the app (migrations from `MigrationSource.fromConfigMap`). So a
 * new migration file or any change to the pod is a new Job, and the same input
 * gives the same name. Content the app cannot see (an imported ConfigMap, a
 * pre-populated volume, what a `ConfigFetchInit` downloads) counts only through
 * its reference: pin a tag or checksum there.
 *
 * Finish the Job before using its name: a change to the Job or its ConfigMaps
 * after `waitStep()` (or after reading `job.name`) fails synthesis, since the
 * wait would look for the old name.
 *
 * With a `proxy`, the proxy is the pod's first init container, a native
 * sidecar: the `initSteps`, the wait for the database and the migration (the
 * Job's main container) all reach the database through it. The Job completes
 * when the migration exits; the kubelet then stops the proxy. Declare the
 * `KubernetesTarget` (1.29 or later) before calling `waitStep()`, which
 * renders the Job to name it.
 */
export class MigrationJob extends Construct {
  /** The Job. */
  public readonly job: kplus.Job;

  /** The migration step, the Job's main container. */
  public readonly migration: MigrationInit;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    const owner = stepOwner('MigrationJob', scope, id);
    const initSteps = props.initSteps ?? [];
    const base = toDns1123Label(id);
    if (!base) throw new Error(`${owner}: id ${JSON.stringify(id)} leaves nothing for the Job name; use letters or digits`);
    initSteps.forEach((s, i) => assertOwn(owner, `initSteps[${i}]`, s, InitStep, INIT_STEP_BRAND, 'an InitStep'));
    assertVolumeSourceWritten(owner, props, initSteps);
    super(scope, id);
    const migrationProps: MigrationInitProps = Object.assign({ ...props, name: props.name ?? 'migrate' }, { [PROXY_STARTED_BY_JOB]: true });
    this.migration = new MigrationInit(this, 'migrate', migrationProps);
    const job = new ContentNamedJob(this, 'Job', owner, base, {
      backoffLimit: props.backoffLimit ?? 0,
      activeDeadline: props.activeDeadline ?? Duration.minutes(30),
      serviceAccount: props.serviceAccount,
    });
    // The proxy first: every step of the pod may need the database.
    const first = this.migration.proxySidecar ? [this.migration.proxySidecar, ...initSteps] : initSteps;
    if (first.length > 0) InitSequence.of(job).add(...first);
    WorkloadInit.of(job).applyAsMain(this.migration);
    job.finishConstruction();
    this.job = job;
  }

  /**
   * A step that blocks a workload until this migration has completed, and fails
   * at once if it failed.
   */
  public waitStep(scope: Construct, id: string, options: WaitForMigrationOptions = {}): WaitForJob {
    return new WaitForJob(scope, id, { ...options, job: this.job });
  }
}

// A volume nobody fills is an empty directory: say which prop fixes it, before
// WorkloadInit's generic "no earlier step writes it".
function assertVolumeSourceWritten(owner: string, props: MigrationJobProps, initSteps: InitStep[]): void {
  const source = props.migrations;
  const volume = source?.kind === 'volume' ? source.volume : undefined;
  if (!volume || volume.prePopulated) return;
  const withPrerequisites = (s: InitStep): InitStep[] => [...s.prerequisites.flatMap(withPrerequisites), s];
  if (initSteps.flatMap(withPrerequisites).some(s => s.writes.some(w => w.volume === volume))) return;
  throw new Error(
    `${owner}: migrations come from shared volume "${volume.name}", but no step in initSteps writes it; ` +
    'pass the step that fills it (e.g. a ConfigFetchInit) in initSteps, or mark the volume prePopulated',
  );
}

/**
 * A Job whose `metadata.name` is `<base>-<hash>`, the hash taken from its
 * synthesized spec and the ConfigMaps it uses, computed whenever the name is
 * read: cdk8s resolves the name in the manifest at synthesis, and `name` gives
 * the same value to code that needs a string earlier (WaitForJob). A validation
 * fails synthesis if a name read earlier is no longer the Job's name.
 */
class ContentNamedJob extends kplus.Job {
  private readonly owner: string;
  private readonly base: string;
  private readonly namesRead = new Set<string>();
  private complete = false;
  private hashing = false;

  constructor(scope: Construct, id: string, owner: string, base: string, props: kplus.JobProps) {
    const token = new NameToken();
    super(scope, id, { ...props, metadata: { ...props.metadata, name: token as unknown as string } });
    token.job = this;
    this.owner = owner;
    this.base = base;
    this.node.addValidation({ validate: () => this.staleNames() });
  }

  /** `<base>-<hash>`; the base alone while the MigrationJob is still adding the pod's containers. */
  public get name(): string {
    // While the pod is being built, or rendered for the hash, the name is not part of it: the base stands in.
    if (!this.complete || this.hashing) return this.base;
    const name = this.contentName();
    this.namesRead.add(name);
    return name;
  }

  /** Called once the MigrationJob has built the pod: from now on the name has its hash. */
  public finishConstruction(): void {
    this.complete = true;
  }

  /** The name, computed from the Job's current manifest. */
  public contentName(): string {
    this.hashing = true;
    try {
      const manifest = ApiObject.of(this).toJson();
      const content = { spec: manifest.spec, configMaps: this.configMapData(manifest.spec) };
      return suffixedLabel(this.base, createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 8));
    } finally {
      this.hashing = false;
    }
  }

  // The data of each ConfigMap the pod uses (volumes, env, envFrom) that is defined in this app.
  private configMapData(spec: any): Array<{ name: string; data?: unknown; binaryData?: unknown }> {
    const pod = spec?.template?.spec ?? {};
    const names = new Set<string>();
    for (const v of pod.volumes ?? []) {
      if (v.configMap?.name) names.add(v.configMap.name);
      for (const s of v.projected?.sources ?? []) if (s.configMap?.name) names.add(s.configMap.name);
    }
    for (const c of [...pod.initContainers ?? [], ...pod.containers ?? []]) {
      for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) names.add(e.valueFrom.configMapKeyRef.name);
      for (const e of c.envFrom ?? []) if (e.configMapRef?.name) names.add(e.configMapRef.name);
    }
    if (names.size === 0) return [];
    const namespace = this.metadata.namespace;
    const defined = this.node.root.node.findAll()
      .filter((c: IConstruct): c is ApiObject => ApiObject.isApiObject(c) && c.kind === 'ConfigMap')
      .filter(c => names.has(c.name) && c.metadata.namespace === namespace);
    return defined
      .map(c => c.toJson())
      .map(json => ({ name: json.metadata.name, data: json.data, binaryData: json.binaryData }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private staleNames(): string[] {
    const current = this.contentName();
    return [...this.namesRead].filter(n => n !== current).map(stale =>
      `${this.owner}: the Job's pod or a ConfigMap it uses changed after its name "${stale}" was read ` +
      `(by waitStep() or job.name); it is now "${current}", so a wait for "${stale}" would never see it complete. ` +
      'Finish the Job, its initSteps and its ConfigMaps before calling waitStep()',
    );
  }
}

/** `metadata.name` of a ContentNamedJob: cdk8s resolves objects with `resolve()` at synthesis. */
class NameToken {
  public job?: ContentNamedJob;

  public resolve(): string {
    return this.job!.name;
  }

  public toString(): string {
    return this.job!.name;
  }
}

/** JSON with object keys sorted, so equal content hashes equally whatever the insertion order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedKeys(value));
}
