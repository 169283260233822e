import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { looksLikeSecretName } from '../env';
import { isPinnedImage } from '../image';
import { OPT_OUT_ANNOTATION_PREFIX } from '../private/workload-init';

/**
 * One problem with one init container.
 */
export interface PolicyFinding {
  /** The workload, as "Kind/name" (with "namespace/" when set). */
  readonly workload: string;

  /** The init container's name. */
  readonly container: string;

  /** The rule broken: restricted-profile, resources, pinned-image, termination-message, literal-secret or probes. */
  readonly rule: string;

  /** What is wrong. */
  readonly message: string;

  /** How to fix it. */
  readonly fix: string;

  /**
   * Whether the workload records an explicit opt-out for this container
   * (annotation `security.cdk8s-init.io/<container>`); waived findings do not fail a check.
   */
  readonly waived: boolean;
}

type Json = any;

/** Where the pod spec of each pod-bearing kind is. */
function podOf(obj: Json): { spec: Json; annotations: Record<string, string> } | undefined {
  const template = (t: Json) => t && { spec: t.spec ?? {}, annotations: t.metadata?.annotations ?? {} };
  switch (obj?.kind) {
    case 'Pod': return { spec: obj.spec ?? {}, annotations: obj.metadata?.annotations ?? {} };
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': return template(obj.spec?.template);
    case 'CronJob': return template(obj.spec?.jobTemplate?.spec?.template);
    default: return undefined;
  }
}

/**
 * Credentials written into a command line. Values that are variable references
 * ($VAR, ${VAR}, $(VAR)) are not literals and do not match.
 */
const SECRET_IN_ARGS = [
  /[a-z][a-z0-9+.-]*:\/\/[^/\s:@$]+:[^@\s/$]+@/i, // scheme://user:password@host
  /(^|\s)--?(password|passwd|token|secret|api-?key)(=|\s+)(?![$"'])\S+/i, // --password=x, -token x
  /(^|\s)mysql(dump|admin)?\s[^|;&]*\s-p(?![$"'])\S+/, // mysql -pSECRET
  /\b[A-Z_]*(PASSWORD|TOKEN|SECRET|API_?KEY)=(?![$"'])\S+/, // FOO_PASSWORD=x in a script
];

/**
 * Checks the init containers of synthesized workloads, including hand-written
 * cdk8s-plus ones: the Pod Security Standards "restricted" profile,
 * read-only root filesystem, resources, pinned image, termination message
 * policy, no literal secrets, and no probes or lifecycle hooks on init
 * containers that are not native sidecars.
 *
 * Run it in CI: `InitContainerPolicy.enforce(chart)` makes `cdk8s synth` fail;
 * `npx cdk8s-init-policy dist/*.k8s.yaml` checks manifests on disk.
 */
export class InitContainerPolicy {
  /**
   * Findings for a list of Kubernetes objects (parsed manifests).
   */
  public static checkManifests(manifests: any[]): PolicyFinding[] {
    return manifests.flatMap(obj => {
      const pod = podOf(obj);
      if (!pod) return [];
      const ns = obj.metadata?.namespace;
      const workload = `${obj.kind}/${ns ? `${ns}/` : ''}${obj.metadata?.name ?? '?'}`;
      return (pod.spec.initContainers ?? []).flatMap((c: Json) => checkContainer(pod.spec, c).map(f => ({
        workload,
        container: c.name,
        ...f,
        waived: f.rule === 'restricted-profile' && `${OPT_OUT_ANNOTATION_PREFIX}${c.name}` in pod.annotations,
      })));
    });
  }

  /**
   * Findings for every chart in `scope` (a Chart or an App).
   */
  public static check(scope: IConstruct): PolicyFinding[] {
    return InitContainerPolicy.checkManifests(manifestsOf(scope));
  }

  /**
   * Adds a validation to `chart`: synthesis fails, listing every finding not waived.
   */
  public static enforce(chart: Chart): void {
    chart.node.addValidation({
      validate: () => InitContainerPolicy.checkManifests(manifestsOf(chart))
        .filter(f => !f.waived)
        .map(formatFinding),
    });
  }

  /**
   * One line per finding: "Kind/name init container "c": message (fix: ...)".
   */
  public static format(findings: PolicyFinding[]): string {
    return findings.map(f => (f.waived ? '[waived] ' : '') + formatFinding(f)).join('\n');
  }
}

// The API objects' JSON, without Chart.toJson(), which would run validations (and so enforce() itself).
function manifestsOf(scope: IConstruct): Json[] {
  return scope.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c)).map(o => o.toJson());
}

function formatFinding(f: PolicyFinding): string {
  return `${f.workload} init container "${f.container}": ${f.message} (fix: ${f.fix})`;
}

interface RawFinding { rule: string; message: string; fix: string }

function checkContainer(podSpec: Json, c: Json): RawFinding[] {
  return [
    ...restricted(podSpec, c),
    ...resources(c),
    ...image(c),
    ...termination(c),
    ...literalSecrets(c),
    ...probes(c),
  ];
}

function restricted(podSpec: Json, c: Json): RawFinding[] {
  const sc = c.securityContext ?? {};
  const pod = podSpec.securityContext ?? {};
  const rule = 'restricted-profile';
  const out: RawFinding[] = [];
  const add = (message: string, fix: string) => out.push({ rule, message, fix });
  if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) add('runAsNonRoot is not true', 'set securityContext.runAsNonRoot: true');
  if ((sc.runAsUser ?? pod.runAsUser) === 0) add('runs as uid 0', 'set securityContext.runAsUser to a non-zero uid');
  if (sc.privileged === true) add('is privileged', 'remove securityContext.privileged');
  if (sc.allowPrivilegeEscalation !== false) add('allowPrivilegeEscalation is not false', 'set securityContext.allowPrivilegeEscalation: false');
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) add('does not drop ALL capabilities', 'set securityContext.capabilities.drop: [ALL]');
  const added = (sc.capabilities?.add ?? []).filter((a: string) => a !== 'NET_BIND_SERVICE');
  if (added.length) add(`adds capabilities ${added.join(', ')}`, 'add no capability but NET_BIND_SERVICE');
  const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') add('has no RuntimeDefault or Localhost seccomp profile', 'set securityContext.seccompProfile.type: RuntimeDefault');
  if (sc.readOnlyRootFilesystem !== true) add('has a writable root filesystem', 'set securityContext.readOnlyRootFilesystem: true and write to mounted volumes');
  return out;
}

function resources(c: Json): RawFinding[] {
  const r = c.resources ?? {};
  const missing = [
    !r.requests?.cpu && 'cpu request',
    !r.requests?.memory && 'memory request',
    !r.limits?.memory && 'memory limit',
  ].filter(Boolean);
  return missing.length ? [{ rule: 'resources', message: `has no ${missing.join(', ')}`, fix: 'set resources.requests.cpu/memory and resources.limits.memory' }] : [];
}

function image(c: Json): RawFinding[] {
  return isPinnedImage(c.image ?? '') ? [] : [{
    rule: 'pinned-image', message: `image "${c.image}" is not pinned`, fix: 'pin the image to a version tag or a sha256 digest',
  }];
}

function termination(c: Json): RawFinding[] {
  return c.terminationMessagePolicy === 'FallbackToLogsOnError' ? [] : [{
    rule: 'termination-message',
    message: 'terminationMessagePolicy is not FallbackToLogsOnError',
    fix: 'set terminationMessagePolicy: FallbackToLogsOnError so kubectl describe shows why it failed',
  }];
}

function literalSecrets(c: Json): RawFinding[] {
  const out: RawFinding[] = [];
  for (const e of c.env ?? []) {
    if (e.value !== undefined && e.value !== '' && looksLikeSecretName(e.name)) {
      out.push({ rule: 'literal-secret', message: `env ${e.name} has a literal value`, fix: 'take it from a Secret with valueFrom.secretKeyRef' });
    }
  }
  const words = [...c.command ?? [], ...c.args ?? []].join(' ');
  if (SECRET_IN_ARGS.some(p => p.test(words))) {
    out.push({ rule: 'literal-secret', message: 'command or args contain what looks like a credential', fix: 'pass credentials as env vars from a Secret, not on the command line' });
  }
  return out;
}

function probes(c: Json): RawFinding[] {
  if (c.restartPolicy === 'Always') return []; // a native sidecar may have them
  const present = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'].filter(k => c[k] !== undefined);
  return present.length ? [{
    rule: 'probes', message: `has ${present.join(', ')}, which the API server rejects on init containers`, fix: 'remove them, or make it a native sidecar (restartPolicy: Always)',
  }] : [];
}
