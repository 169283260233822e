import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { InitStep } from '../init-step';
import { checkPod, podOf } from '../policy/check-pod';
import { RULE } from '../policy/rules';
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
  /** Volume names mounted read-only. */
  readonly reads: string[];
  /** Volume names mounted read-write. */
  readonly writes: string[];
  /**
   * The step's timeout in seconds.
   *
   * @default - none: unbounded, or a hand-written container
   */
  readonly timeoutSeconds?: number;
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
   * Memory request, MiB.
   * @default - none
   */
  readonly memoryRequestMebibytes?: number;
  /**
   * Memory limit, MiB.
   * @default - none: unbounded
   */
  readonly memoryLimitMebibytes?: number;
}

type Field = keyof PodResources;
const FIELDS: Field[] = ['cpuRequestMillis', 'cpuLimitMillis', 'memoryRequestMebibytes', 'memoryLimitMebibytes'];

/**
 * What happens before a workload's app starts, for people: the ordered steps,
 * what each waits for, reads and writes, the worst-case start delay, and the
 * pod's effective resources as Kubernetes computes them. Render it as a
 * Markdown table (`toMarkdown()`) or a Mermaid flowchart (`toMermaid()`).
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
  /** Init containers, in order. */
  public readonly steps: PlannedStep[];
  /** App (main) container names. */
  public readonly appContainers: string[];
  /**
   * Sum of the step timeouts.
   * @default - none: a step is unbounded (see `unboundedSteps`)
   */
  public readonly worstCaseStartDelay?: Duration;
  /** Steps without a timeout (which make the start delay unbounded). */
  public readonly unboundedSteps: string[];
  /** Largest init container value per field: Kubernetes' effective init resources (all absent without init containers). */
  public readonly initResources: PodResources;
  /** Sum over app containers per field. */
  public readonly appResources: PodResources;
  /** The pod's effective resources: per field the larger of init (if any) and app. */
  public readonly podResources: PodResources;
  private readonly appReads: string[];

  private constructor(workload: kplus.AbstractPod) {
    const kind = workload.constructor.name;
    const namespace = workload.metadata.namespace;
    this.workload = `${kind} ${namespace ? `${namespace}/` : ''}${workload.name}`;
    const model = WorkloadInit.find(workload);
    const known = new Map<string, InitStep>(model?.steps.map(s => [s.name, s]) ?? []);
    // Security as synthesized: what the library adds at synthesis and others' patches included.
    const pod = podOf(ApiObject.of(workload).toJson())!;
    const findings = checkPod(pod, false);
    const security = (name: string): Security => {
      const unmet = findings.filter(f => f.container === name && (f.podSecurityLevel !== undefined || f.rule === RULE.READ_ONLY_ROOT_FILESYSTEM));
      return {
        unmetRules: [...new Set(unmet.map(f => f.rule))],
        optOutReason: unmet.length > 0 && unmet.every(f => f.waived) ? waiverReasons(pod.annotations, name).join('; ') : undefined,
      };
    };
    // A container that runs merged waits checks every merged step's targets: describe them all.
    this.steps = workload.initContainers.map((c, i) => plannedStep(i + 1, c, known.get(c.name), security(c.name), model?.describeContainer(c.name)));
    this.appContainers = workload.containers.map(c => c.name);
    this.appReads = [...new Set(workload.containers.flatMap(c => c.mounts.map(m => m.volume.name)))];
    this.unboundedSteps = this.steps.filter(s => s.timeoutSeconds === undefined).map(s => s.name);
    this.worstCaseStartDelay = this.unboundedSteps.length === 0
      ? Duration.seconds(this.steps.reduce((sum, s) => sum + s.timeoutSeconds!, 0)) : undefined;
    const init = workload.initContainers.map(resourcesOf);
    const app = workload.containers.map(resourcesOf);
    this.initResources = combine(init, (a, b) => Math.max(a, b));
    this.appResources = combine(app, (a, b) => a + b);
    // A side without containers does not count: a pod without init containers has the app's resources.
    const sides = [...init.length ? [this.initResources] : [], ...app.length ? [this.appResources] : []];
    this.podResources = Object.fromEntries(FIELDS.map(f => {
      const values = sides.map(r => r[f]);
      // A limit missing on either side is unbounded; a missing request counts as 0.
      if (values.length === 0 || (f.includes('Limit') && values.some(v => v === undefined))) return [f, undefined];
      return [f, Math.max(...values.map(v => v ?? 0))];
    }));
  }

  /**
   * The plan as Markdown: a heading, the steps table, the start delay and the resources table.
   */
  public toMarkdown(): string {
    const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const list = (xs: string[]) => xs.length ? xs.map(x => `\`${x}\``).join(', ') : '–';
    const security = (s: PlannedStep) => s.restricted ? 'restricted'
      : s.optOutReason !== undefined ? `opt-out: ${s.optOutReason}` : `not restricted: ${s.unmetRules.join(', ')}`;
    const rows = this.steps.map(s => `| ${s.position} | \`${s.name}\` | \`${s.image}\` | ${cell(s.description)} | ${list(s.reads)} | ` +
      `${list(s.writes)} | ${s.timeoutSeconds === undefined ? 'unbounded' : formatSeconds(s.timeoutSeconds)} | ${cell(security(s))} |`);
    const delay = this.worstCaseStartDelay
      ? `**Worst-case start delay:** ${formatSeconds(this.worstCaseStartDelay.toSeconds())} (sum of step timeouts)`
      : `**Worst-case start delay:** unbounded (no timeout: ${list(this.unboundedSteps)})`;
    const res = (label: string, r: PodResources) =>
      `| ${label} | ${cpu(r.cpuRequestMillis)} | ${cpu(r.cpuLimitMillis)} | ${mem(r.memoryRequestMebibytes)} | ${mem(r.memoryLimitMebibytes)} |`;
    const initRow = this.steps.length === 0 ? '| init (max) | – | – | – | – |' : res('init (max)', this.initResources);
    return [
      `### ${this.workload}`,
      '',
      this.steps.length === 0 ? '_No init containers._' : [
        '| # | step | image | does | reads | writes | timeout | security |',
        '|---|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
      '',
      `Then the app starts: ${list(this.appContainers)}${this.appReads.length ? `, mounting ${list(this.appReads)}` : ''}.`,
      '',
      delay,
      '',
      'Effective pod resources (Kubernetes: the larger of the biggest init container and the sum of app containers):',
      '',
      '| | cpu request | cpu limit | memory request | memory limit |',
      '|---|---|---|---|---|',
      initRow,
      res('app (sum)', this.appResources),
      res('**pod**', this.podResources),
      '',
    ].join('\n');
  }

  /**
   * The plan as a Mermaid flowchart: steps in order, then the app, with the
   * shared volumes each step writes and the app or later steps read.
   */
  public toMermaid(): string {
    const q = (s: string) => s.replace(/"/g, '#quot;').replace(/[<>]/g, c => (c === '<' ? '#lt;' : '#gt;'));
    const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
    const lines = ['flowchart LR'];
    const nodes = this.steps.map(s => `s${s.position}`);
    this.steps.forEach((s, i) => lines.push(`  ${nodes[i]}["${s.position}. ${q(s.name)}<br/>${q(s.image)}<br/>${q(s.description)}"]`));
    lines.push(`  app(["app: ${q(this.appContainers.join(', '))}"])`);
    lines.push(`  ${[...nodes, 'app'].join(' --> ')}`);
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

function plannedStep(position: number, c: kplus.Container, step: InitStep | undefined, security: Security, described?: string): PlannedStep {
  const mounts = c.mounts;
  const hidden = (m: kplus.VolumeMount) => step?.scratchPath !== undefined && m.path === step.scratchPath;
  const executable = c.command?.[0]?.split('/').pop();
  return {
    position,
    name: c.name,
    image: c.image,
    description: step
      ? described ?? step.description ?? ([...c.command ?? [], ...c.args ?? []].join(' ').replace(/\s+/g, ' ').slice(0, 80) || 'runs the image')
      : `hand-written init container; runs ${executable ?? 'the image entrypoint'}`,
    handWritten: step === undefined,
    reads: mounts.filter(m => m.readOnly && !hidden(m)).map(m => m.volume.name),
    writes: mounts.filter(m => !m.readOnly && !hidden(m)).map(m => m.volume.name),
    timeoutSeconds: step?.timeout?.toSeconds(),
    restricted: security.unmetRules.length === 0,
    unmetRules: security.unmetRules,
    optOutReason: security.optOutReason,
  };
}

function cpuMillis(value?: kplus.Cpu): number | undefined {
  if (!value) return undefined;
  const amount = String(value.amount);
  return amount.endsWith('m') ? Number(amount.slice(0, -1)) : Math.round(Number(amount) * 1000);
}

function resourcesOf(c: kplus.Container): PodResources {
  const r = c.resources ?? {};
  return {
    cpuRequestMillis: cpuMillis(r.cpu?.request),
    cpuLimitMillis: cpuMillis(r.cpu?.limit),
    memoryRequestMebibytes: r.memory?.request?.toMebibytes(),
    memoryLimitMebibytes: r.memory?.limit?.toMebibytes(),
  };
}

// Requests: a missing value counts as 0. Limits: one missing value makes the result unbounded.
function combine(all: PodResources[], op: (a: number, b: number) => number): PodResources {
  return Object.fromEntries(FIELDS.map(f => {
    if (all.length === 0) return [f, undefined];
    if (f.includes('Limit') && all.some(r => r[f] === undefined)) return [f, undefined];
    return [f, all.map(r => r[f] ?? 0).reduce(op)];
  }));
}

function cpu(m?: number): string {
  return m === undefined ? 'none' : `${m}m`;
}

function mem(m?: number): string {
  return m === undefined ? 'none' : `${m}Mi`;
}

function formatSeconds(total: number): string {
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m === 0 ? `${s}s` : s === 0 ? `${m}m` : `${m}m ${s}s`;
}
