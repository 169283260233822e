import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { InitStep } from '../init-step';
import { checkPod, podOf } from '../policy/check-pod';
import { isSidecar, RULE } from '../policy/rules';
import { waiverReasons } from '../private/waivers';
import { WorkloadInit } from '../private/workload-init';

/**
 * One init container of a plan.
 */
export interface PlannedStep {
  /** 1-based position: the order the kubelet runs them in. */
  readonly position: number;
  /** Container name. */
  readonly name: string;
  /** Image. */
  readonly image: string;
  /**
   * What the step does ("waits for db:5432", ...; a step without a description
   * shows its command). A hand-written init container is named as such, with
   * only its executable: its script may be long or hold what should not be in
   * a document.
   */
  readonly description: string;
  /** Whether it is a hand-written init container rather than a cdk8s-init step. */
  readonly handWritten: boolean;
  /**
   * Whether it is a native sidecar: an init container with `restartPolicy: Always`
   * in the synthesized manifest (a step with `sidecar` options, or a hand-written
   * one). It starts in its place in the sequence, the next container starts once
   * it has started, and it keeps running beside the app until the pod stops.
   */
  readonly sidecar: boolean;
  /** Volume names mounted read-only. */
  readonly reads: string[];
  /** Volume names mounted read-write. */
  readonly writes: string[];
  /**
   * The step's timeout in seconds.
   *
   * @default - none: unbounded, a hand-written container, or a sidecar (see `startupBoundSeconds`)
   */
  readonly timeoutSeconds?: number;
  /**
   * For a native sidecar, the longest it takes to count as started, in seconds:
   * with a startupProbe, `initialDelaySeconds + failureThreshold × periodSeconds`
   * (Kubernetes defaults 0, 3 and 10), after which the kubelet restarts it, as a
   * failed step is retried; without one, 0 (it counts as started once its
   * process has). A postStart hook, which must finish too, is not counted.
   *
   * @default - none: not a sidecar
   */
  readonly startupBoundSeconds?: number;
  /**
   * Whether the synthesized container meets the Pod Security Standards
   * restricted level and has a read-only root filesystem, as the policy check
   * sees it (a waived rule still counts as unmet).
   */
  readonly restricted: boolean;
  /** The security rules it breaks (see RULES.md), waived or not; empty when restricted. */
  readonly unmetRules: string[];
  /**
   * Why it breaks them, when every one is waived on the pod (a recorded opt-out).
   *
   * @default - none: restricted, or a rule is broken without a waiver
   */
  readonly optOutReason?: string;
}

/**
 * CPU (millicores) and memory (MiB); absent where unbounded.
 */
export interface PodResources {
  /**
   * CPU request, millicores.
   * @default - none
   */
  readonly cpuRequestMillis?: number;
  /**
   * CPU limit, millicores.
   * @default - none: unbounded
   */
  readonly cpuLimitMillis?: number;
  /**
   * Memory request, MiB (fractional for a quantity that is not a whole number of MiB, e.g. "128M").
   * @default - none
   */
  readonly memoryRequestMebibytes?: number;
  /**
   * Memory limit, MiB (fractional for a quantity that is not a whole number of MiB).
   * @default - none: unbounded
   */
  readonly memoryLimitMebibytes?: number;
}

type Json = any;
type Field = keyof PodResources;
const FIELDS: Field[] = ['cpuRequestMillis', 'cpuLimitMillis', 'memoryRequestMebibytes', 'memoryLimitMebibytes'];
const MEBIBYTE = 1024 * 1024;

/**
 * Per field, a value in exact integer units (millicores; bytes for memory),
 * `undefined` where no container contributes, and `Infinity` for a limit a
 * contributing container leaves out (unbounded).
 */
type Amounts = Record<Field, number | undefined>;

/** A `resources` stanza read: its amounts, and which fields it sets. */
interface ReadResources {
  readonly amounts: Amounts;
  readonly set: Record<Field, boolean>;
}

/**
 * What happens before a workload's app starts, for people: the ordered steps,
 * what each waits for, reads and writes, the native sidecars that start among
 * them and run beside the app, the worst-case start delay, and the pod's
 * effective resources as Kubernetes computes them. Render it as a Markdown
 * table (`toMarkdown()`) or a Mermaid flowchart (`toMermaid()`).
 */
export class InitPlan {
  /**
   * The plan of one workload.
   */
  public static of(workload: kplus.AbstractPod): InitPlan {
    return new InitPlan(workload);
  }

  /**
   * The plans of every workload under `scope` (a Chart or an App), in construct-path order.
   */
  public static forScope(scope: IConstruct): InitPlan[] {
    return scope.node.findAll()
      .filter((c): c is kplus.AbstractPod => c instanceof kplus.AbstractPod)
      .sort((a, b) => a.node.path.localeCompare(b.node.path))
      .map(w => new InitPlan(w));
  }

  /** "Kind name" of the workload. */
  public readonly workload: string;
  /** Init containers, in order, native sidecars included (`sidecar` is true for them). */
  public readonly steps: PlannedStep[];
  /** App (main) container names. */
  public readonly appContainers: string[];
  /**
   * Sum of the step timeouts and of the sidecars' start bounds (`startupBoundSeconds`).
   * @default - none: a step is unbounded (see `unboundedSteps`)
   */
  public readonly worstCaseStartDelay?: Duration;
  /**
   * Steps without a timeout (which make the start delay unbounded). A sidecar is
   * never one: its start is bounded by its startupProbe, or immediate without one.
   */
  public readonly unboundedSteps: string[];
  /**
   * The init phase's peak per field, as the first term of Kubernetes' formula
   * (KEP-753): the largest of each ordinary init container plus the sidecars
   * started before it, and of each sidecar plus the sidecars up to it. Without
   * sidecars, the largest init container. All absent without init containers;
   * a limit is absent (unbounded) when a container it counts has none.
   */
  public readonly initResources: PodResources;
  /**
   * Sum over the native sidecars per field: they run beside the app for the
   * pod's lifetime. All absent without sidecars.
   */
  public readonly sidecarResources: PodResources;
  /** Sum over app containers per field. */
  public readonly appResources: PodResources;
  /**
   * The pod-level `spec.resources` (KEP-2837: alpha in Kubernetes 1.32, beta in
   * 1.34), the fields it sets; these replace the computed values in `podResources`.
   * (The cdk8s-plus-27 line's manifests cannot carry it unless patched after
   * synthesis; later lines keep a JSON patch that adds it.)
   *
   * @default - none: the pod sets no cpu or memory in spec.resources
   */
  public readonly podLevelResources?: PodResources;
  /**
   * The pod's effective resources, as the scheduler and kubelet compute them
   * (without pod overhead): per field, the pod-level `spec.resources` value where
   * set, else the larger of the init peak (`initResources`) and the sidecars
   * plus the app containers (`sidecarResources` + `appResources`). A missing
   * request counts as 0; a missing limit makes the result unbounded (absent).
   */
  public readonly podResources: PodResources;
  private readonly appReads: string[];

  private constructor(workload: kplus.AbstractPod) {
    // The manifest's kind: a subclass (MigrationJob's Job) is still a Job to a reader.
    const kind = ApiObject.of(workload).kind;
    const namespace = workload.metadata.namespace;
    this.workload = `${kind} ${namespace ? `${namespace}/` : ''}${workload.name}`;
    const model = WorkloadInit.find(workload);
    const known = new Map<string, InitStep>(model?.steps.map(s => [s.name, s]) ?? []);
    // As synthesized: what the library adds at synthesis and others' patches included.
    const pod = podOf(ApiObject.of(workload).toJson())!;
    const findings = checkPod(pod, false);
    const security = (name: string): Security => {
      const unmet = findings.filter(f => f.container === name && (f.podSecurityLevel !== undefined || f.rule === RULE.READ_ONLY_ROOT_FILESYSTEM));
      return {
        unmetRules: [...new Set(unmet.map(f => f.rule))],
        optOutReason: unmet.length > 0 && unmet.every(f => f.waived) ? waiverReasons(pod.annotations, name).join('; ') : undefined,
      };
    };
    const initJson: Json[] = pod.spec.initContainers ?? [];
    const appJson: Json[] = pod.spec.containers ?? [];
    const rendered = (name: string) => initJson.find(c => c?.name === name) ?? {};
    // A container that runs merged waits checks every merged step's targets: describe them all.
    this.steps = workload.initContainers.map((c, i) =>
      plannedStep(i + 1, c, rendered(c.name), known.get(c.name), security(c.name), model?.describeContainer(c.name)));
    this.appContainers = workload.containers.map(c => c.name);
    this.appReads = [...new Set(workload.containers.flatMap(c => c.mounts.map(m => m.volume.name)))];
    this.unboundedSteps = this.steps.filter(s => !s.sidecar && s.timeoutSeconds === undefined).map(s => s.name);
    this.worstCaseStartDelay = this.unboundedSteps.length === 0
      ? Duration.seconds(this.steps.reduce((sum, s) => sum + (s.sidecar ? s.startupBoundSeconds! : s.timeoutSeconds!), 0)) : undefined;

    const where = (c: Json, list: string) => `${this.workload}: ${list} "${c?.name}"`;
    const resources = effectiveResources(
      initJson.map(c => ({ sidecar: isSidecar(c), amounts: readResources(c?.resources, where(c, 'init container')).amounts })),
      appJson.map(c => readResources(c?.resources, where(c, 'container')).amounts),
      readResources(pod.spec.resources, `${this.workload}: pod spec`),
    );
    this.initResources = resources.init;
    this.sidecarResources = resources.sidecars;
    this.appResources = resources.app;
    this.podLevelResources = resources.podLevel;
    this.podResources = resources.pod;
  }

  /**
   * The plan as Markdown: a heading, the steps table (sidecars marked), the
   * start delay and the resources table.
   */
  public toMarkdown(): string {
    const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const list = (xs: string[]) => xs.length ? xs.map(x => `\`${x}\``).join(', ') : '–';
    const security = (s: PlannedStep) => s.restricted ? 'restricted'
      : s.optOutReason !== undefined ? `opt-out: ${s.optOutReason}` : `not restricted: ${s.unmetRules.join(', ')}`;
    const does = (s: PlannedStep) => s.sidecar ? `sidecar, runs beside the app: ${s.description}` : s.description;
    const timeout = (s: PlannedStep) => s.sidecar
      ? (s.startupBoundSeconds! > 0 ? `starts within ${formatSeconds(s.startupBoundSeconds!)} (startupProbe)` : 'starts at once (no startupProbe)')
      : s.timeoutSeconds === undefined ? 'unbounded' : formatSeconds(s.timeoutSeconds);
    const rows = this.steps.map(s => `| ${s.position} | \`${s.name}\` | \`${s.image}\` | ${cell(does(s))} | ${list(s.reads)} | ` +
      `${list(s.writes)} | ${timeout(s)} | ${cell(security(s))} |`);
    const sidecars = this.steps.filter(s => s.sidecar).map(s => s.name);
    const delay = this.worstCaseStartDelay
      ? `**Worst-case start delay:** ${formatSeconds(this.worstCaseStartDelay.toSeconds())} ` +
        `(sum of step timeouts${sidecars.length ? ' and sidecar startup bounds' : ''})`
      : `**Worst-case start delay:** unbounded (no timeout: ${list(this.unboundedSteps)})`;
    const res = (label: string, r: PodResources, unset = 'none') => {
      const or = (f: (v?: number) => string) => (v?: number) => v === undefined ? unset : f(v);
      return `| ${label} | ${or(cpu)(r.cpuRequestMillis)} | ${or(cpu)(r.cpuLimitMillis)} | ${or(mem)(r.memoryRequestMebibytes)} | ${or(mem)(r.memoryLimitMebibytes)} |`;
    };
    const initLabel = sidecars.length ? 'init (peak)' : 'init (max)';
    const initRow = this.steps.length === 0 ? `| ${initLabel} | – | – | – | – |` : res(initLabel, this.initResources);
    const formula = sidecars.length
      ? 'Kubernetes, with native sidecars: the larger of the init peak (each init container plus the sidecars started before it) ' +
        'and the sidecars plus the app containers'
      : 'Kubernetes: the larger of the biggest init container and the sum of app containers';
    const podLevel = this.podLevelResources
      ? '; the pod-level `spec.resources` replaces the computed value of each field it sets' : '';
    const sidecarNote = sidecars.length ? `, beside ${sidecars.length === 1 ? 'sidecar' : 'sidecars'} ${list(sidecars)}` : '';
    return [
      `### ${this.workload}`,
      '',
      this.steps.length === 0 ? '_No init containers._' : [
        '| # | step | image | does | reads | writes | timeout | security |',
        '|---|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
      '',
      `Then the app starts: ${list(this.appContainers)}${this.appReads.length ? `, mounting ${list(this.appReads)}` : ''}${sidecarNote}.`,
      '',
      delay,
      '',
      `Effective pod resources (${formula}${podLevel}):`,
      '',
      '| | cpu request | cpu limit | memory request | memory limit |',
      '|---|---|---|---|---|',
      initRow,
      ...sidecars.length ? [res('sidecars (sum)', this.sidecarResources)] : [],
      res('app (sum)', this.appResources),
      ...this.podLevelResources ? [res('pod-level (spec.resources)', this.podLevelResources, '–')] : [],
      res('**pod**', this.podResources),
      '',
    ].join('\n');
  }

  /**
   * The plan as a Mermaid flowchart: steps in order, then the app, with the
   * shared volumes each step writes and the app or later steps read. A sidecar
   * passes the sequence on once it has started and is linked to the app it
   * runs beside.
   */
  public toMermaid(): string {
    const q = (s: string) => s.replace(/"/g, '#quot;').replace(/[<>]/g, c => (c === '<' ? '#lt;' : '#gt;'));
    const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
    const lines = ['flowchart LR'];
    const nodes = this.steps.map(s => `s${s.position}`);
    this.steps.forEach((s, i) => lines.push(`  ${nodes[i]}["${s.position}. ${q(s.name)}${s.sidecar ? ' (sidecar)' : ''}<br/>${q(s.image)}<br/>${q(s.description)}"]`));
    lines.push(`  app(["app: ${q(this.appContainers.join(', '))}"])`);
    // A sidecar does not exit: the next container starts once it has started.
    lines.push(`  ${nodes.map((n, i) => `${n}${this.steps[i].sidecar ? ' -- started -->' : ' -->'} `).join('')}app`);
    this.steps.forEach((s, i) => { if (s.sidecar) lines.push(`  ${nodes[i]} -. runs beside .- app`); });
    const volumes = [...new Set(this.steps.flatMap(s => [...s.writes, ...s.reads]))].sort();
    for (const v of volumes) lines.push(`  v_${id(v)}[("${q(v)}")]`);
    this.steps.forEach((s, i) => {
      for (const v of s.writes) lines.push(`  ${nodes[i]} -- writes --> v_${id(v)}`);
      for (const v of s.reads) lines.push(`  v_${id(v)} -. reads .-> ${nodes[i]}`);
    });
    for (const v of this.appReads.filter(r => volumes.includes(r))) lines.push(`  v_${id(v)} -. reads .-> app`);
    return lines.join('\n') + '\n';
  }
}

interface Security {
  readonly unmetRules: string[];
  readonly optOutReason?: string;
}

function plannedStep(
  position: number, c: kplus.Container, json: Json, step: InitStep | undefined, security: Security, described?: string,
): PlannedStep {
  const mounts = c.mounts;
  const hidden = (m: kplus.VolumeMount) => step?.scratchPath !== undefined && m.path === step.scratchPath;
  const executable = c.command?.[0]?.split('/').pop();
  const sidecar = isSidecar(json);
  return {
    position,
    name: c.name,
    image: c.image,
    description: step
      ? described ?? step.description ?? ([...c.command ?? [], ...c.args ?? []].join(' ').replace(/\s+/g, ' ').slice(0, 80) || 'runs the image')
      : `hand-written init container; runs ${executable ?? 'the image entrypoint'}`,
    handWritten: step === undefined,
    sidecar,
    reads: mounts.filter(m => m.readOnly && !hidden(m)).map(m => m.volume.name),
    writes: mounts.filter(m => !m.readOnly && !hidden(m)).map(m => m.volume.name),
    timeoutSeconds: step?.timeout?.toSeconds(),
    startupBoundSeconds: sidecar ? startupBound(json.startupProbe) : undefined,
    restricted: security.unmetRules.length === 0,
    unmetRules: security.unmetRules,
    optOutReason: security.optOutReason,
  };
}

/** The longest a sidecar takes to count as started: its startupProbe's initialDelay + failureThreshold × period (Kubernetes defaults 0, 3, 10), or 0 without one. */
function startupBound(probe: Json): number {
  if (!probe) return 0;
  const int = (v: unknown, fallback: number) => (typeof v === 'number' && v >= 0 ? v : fallback);
  return int(probe.initialDelaySeconds, 0) + int(probe.failureThreshold, 3) * int(probe.periodSeconds, 10);
}

/**
 * Kubernetes' effective pod resources, per field, as the scheduler and the
 * kubelet compute them (k8s.io/component-helpers/resource PodRequests and
 * PodLimits, without pod overhead). Init containers in order, with a running
 * sum of the sidecars started so far: a sidecar adds itself to it and counts
 * as that sum; an ordinary init container counts as itself plus that sum; the
 * init peak is the largest count. The pod's value is the larger of the init
 * peak and all sidecars plus all app containers, unless the pod-level
 * `spec.resources` sets the field.
 */
function effectiveResources(init: Array<{ sidecar: boolean; amounts: Amounts }>, app: Amounts[], podLevel: ReadResources) {
  const sidecars = init.filter(c => c.sidecar).map(c => c.amounts);
  const peak = emptyAmounts();
  const running = zeroAmounts();
  for (const c of init) {
    for (const f of FIELDS) {
      const value = c.amounts[f]!;
      if (c.sidecar) running[f]! += value;
      const count = c.sidecar ? running[f]! : value + running[f]!;
      peak[f] = Math.max(peak[f] ?? 0, count);
    }
  }
  const sum = (all: Amounts[]) => all.length === 0 ? emptyAmounts()
    : Object.fromEntries(FIELDS.map(f => [f, all.reduce((total, a) => total + a[f]!, 0)])) as Amounts;
  const appSum = sum(app);
  const sidecarSum = sum(sidecars);
  // A side without containers does not count: a pod without init containers has the app's resources.
  const computed = Object.fromEntries(FIELDS.map(f => {
    const sides = [...init.length ? [peak[f]!] : [], ...app.length || sidecars.length ? [(appSum[f] ?? 0) + (sidecarSum[f] ?? 0)] : []];
    return [f, sides.length ? Math.max(...sides) : undefined];
  })) as Amounts;
  const podLevelSet = Object.fromEntries(FIELDS.map(f => [f, podLevel.set[f] ? podLevel.amounts[f] : undefined])) as Amounts;
  const pod = Object.fromEntries(FIELDS.map(f => [f, podLevel.set[f] ? podLevel.amounts[f] : computed[f]])) as Amounts;
  return {
    init: toPodResources(peak),
    sidecars: toPodResources(sidecarSum),
    app: toPodResources(appSum),
    podLevel: FIELDS.some(f => podLevel.set[f]) ? toPodResources(podLevelSet) : undefined,
    pod: toPodResources(pod),
  };
}

function emptyAmounts(): Amounts {
  return { cpuRequestMillis: undefined, cpuLimitMillis: undefined, memoryRequestMebibytes: undefined, memoryLimitMebibytes: undefined };
}

function zeroAmounts(): Amounts {
  return { cpuRequestMillis: 0, cpuLimitMillis: 0, memoryRequestMebibytes: 0, memoryLimitMebibytes: 0 };
}

/** Infinity (unbounded) and undefined both become absent; memory in MiB. */
function toPodResources(a: Amounts): PodResources {
  const out = (f: Field) => {
    const v = a[f];
    if (v === undefined || !Number.isFinite(v)) return undefined;
    return f.startsWith('memory') ? v / MEBIBYTE : v;
  };
  return Object.fromEntries(FIELDS.map(f => [f, out(f)]));
}

/**
 * A container's (or the pod's) `resources` as amounts: a missing request is 0,
 * a missing limit Infinity (unbounded); `set` says which fields the manifest sets.
 */
function readResources(resources: Json, where: string): ReadResources {
  const raw: Record<Field, unknown> = {
    cpuRequestMillis: resources?.requests?.cpu,
    cpuLimitMillis: resources?.limits?.cpu,
    memoryRequestMebibytes: resources?.requests?.memory,
    memoryLimitMebibytes: resources?.limits?.memory,
  };
  const set = Object.fromEntries(FIELDS.map(f => [f, raw[f] !== undefined && raw[f] !== null])) as Record<Field, boolean>;
  const amounts = Object.fromEntries(FIELDS.map(f => {
    if (!set[f]) return [f, f.includes('Limit') ? Infinity : 0];
    const path = `resources.${f.includes('Limit') ? 'limits' : 'requests'}.${f.startsWith('cpu') ? 'cpu' : 'memory'}`;
    const base = parseQuantity(raw[f], `${where} ${path}`);
    // As Kubernetes rounds: cpu up to a whole millicore, memory up to a whole byte.
    return [f, Math.ceil(roundOff(f.startsWith('cpu') ? base * 1000 : base))];
  })) as Amounts;
  return { amounts, set };
}

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;
const SUFFIXES: Record<string, number> = {
  // Decimal SI: n = 1e-9 ... E = 1e18
  ...Object.fromEntries(['n', 'u', 'm', '', 'k', 'M', 'G', 'T', 'P', 'E'].map((s, i) => [s, Number(`1e${3 * i - 9}`)])),
  // Binary SI: Ki = 2^10 ... Ei = 2^60
  ...Object.fromEntries(['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'].map((s, i) => [s, 2 ** (10 * (i + 1))])),
};

/** A Kubernetes quantity ("500m", "1", "0.5", "64Mi", "1Gi", "128M", "1e3") in base units (cores, bytes). */
function parseQuantity(value: unknown, where: string): number {
  const match = typeof value === 'string' || typeof value === 'number' ? QUANTITY.exec(String(value).trim()) : null;
  if (!match) {
    throw new Error(`${where}: ${JSON.stringify(value)} is not a Kubernetes quantity (e.g. "500m", "1", "64Mi", "1Gi")`);
  }
  const [, mantissa, exponent, suffix] = match;
  return Number(mantissa) * (exponent !== undefined ? 10 ** Number(exponent) : suffix ? SUFFIXES[suffix] : 1);
}

/** Drops binary floating-point noise (0.1 × 1000 = 100.00000000000001) before rounding up. */
function roundOff(x: number): number {
  return Number(x.toPrecision(15));
}

function cpu(m?: number): string {
  return m === undefined ? 'none' : `${m}m`;
}

function mem(m?: number): string {
  return m === undefined ? 'none' : `${Math.round(m * 100) / 100}Mi`;
}

function formatSeconds(total: number): string {
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m === 0 ? `${s}s` : s === 0 ? `${m}m` : `${m}m ${s}s`;
}
