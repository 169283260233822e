import { looksLikeSecretName } from '../private/env';
import { isPinnedImage } from '../private/image';

/**
 * The policy's rule ids, as findings and waiver annotations name them.
 * RULES.md explains each one.
 */
export const RULE = {
  // Pod Security Standards, baseline
  HOST_NAMESPACES: 'host-namespaces',
  HOST_PROCESS: 'host-process',
  PRIVILEGED: 'privileged',
  CAPABILITIES: 'capabilities',
  HOST_PATH: 'host-path',
  HOST_PORTS: 'host-ports',
  APPARMOR: 'apparmor',
  SELINUX: 'selinux',
  PROC_MOUNT: 'proc-mount',
  SECCOMP: 'seccomp',
  SYSCTLS: 'sysctls',
  // Pod Security Standards, restricted
  VOLUME_TYPES: 'volume-types',
  PRIVILEGE_ESCALATION: 'privilege-escalation',
  RUN_AS_NON_ROOT: 'run-as-non-root',
  // This project's defaults for init containers
  READ_ONLY_ROOT_FILESYSTEM: 'read-only-root-filesystem',
  RESOURCES: 'resources',
  PINNED_IMAGE: 'pinned-image',
  TERMINATION_MESSAGE: 'termination-message',
  LITERAL_SECRET: 'literal-secret',
  PROBES: 'probes',
} as const;

/** A Pod Security Standards level. */
export type Level = 'baseline' | 'restricted';

/**
 * What kind of container it is: which list of the pod spec it is in, and for
 * an init container whether it is a native sidecar ("sidecar").
 */
export type ContainerKind = 'init' | 'sidecar' | 'app' | 'ephemeral';

/**
 * Whether an init container (as JSON) is a native sidecar: `restartPolicy: Always`.
 * It runs beside the app for the pod's lifetime; probes and lifecycle hooks are allowed on it.
 */
export function isSidecar(c: Json): boolean {
  return c?.restartPolicy === 'Always';
}

/** One problem, before the policy adds the workload, the container and the waiver. */
export interface RawFinding {
  readonly rule: string;
  /** What in the rule it is about (a capability), for a waiver of just that. */
  readonly item?: string;
  /** The Pod Security Standards level that forbids it; undefined for this project's own rules. */
  readonly level?: Level;
  readonly message: string;
  readonly fix: string;
}

type Json = any;

/** The pod a container is checked in: its spec and its metadata annotations. */
export interface PodView {
  readonly spec: Json;
  readonly annotations: Record<string, string>;
}

/** Capabilities the baseline level allows adding (the container runtimes' default set). */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

/** Sysctls the baseline level allows, as of Kubernetes 1.27 (the line this package targets). */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
]);

/** SELinux types the baseline level allows (an unset type is allowed too). */
const SELINUX_TYPES = new Set(['container_t', 'container_init_t', 'container_kvm_t']);

/** Volume types the restricted level allows. */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

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
 * Pod Security Standards checks of fields set once per pod. A field the
 * containers inherit (runAsUser, seccomp, ...) is reported here when the pod
 * sets it to a forbidden value, and at the container when the container does.
 */
export function podRules(pod: PodView): RawFinding[] {
  const spec = pod.spec;
  const sc = spec.securityContext ?? {};
  const out: RawFinding[] = [];
  const add = (rule: string, level: Level, message: string, fix: string) => out.push({ rule, level, message, fix });

  const shared = ['hostNetwork', 'hostPID', 'hostIPC'].filter(f => spec[f] === true);
  if (shared.length) add(RULE.HOST_NAMESPACES, 'baseline', `shares the node's namespaces (${shared.map(f => `${f}: true`).join(', ')})`, `remove ${shared.join(', ')}`);
  if (sc.windowsOptions?.hostProcess === true) add(RULE.HOST_PROCESS, 'baseline', 'is a Windows HostProcess pod', 'remove securityContext.windowsOptions.hostProcess');
  const volumes: Json[] = spec.volumes ?? [];
  const hostPaths = volumes.filter(v => v.hostPath !== undefined).map(v => v.name);
  if (hostPaths.length) add(RULE.HOST_PATH, 'baseline', `mounts the node's filesystem (hostPath volume ${hostPaths.join(', ')})`, 'use an emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead');
  const otherTypes = volumes.flatMap(v => {
    const type = Object.keys(v).find(k => k !== 'name');
    return type && type !== 'hostPath' && !RESTRICTED_VOLUME_TYPES.has(type) ? [`${v.name} (${type})`] : [];
  });
  if (otherTypes.length) {
    add(RULE.VOLUME_TYPES, 'restricted', `has volume types the restricted level forbids: ${otherTypes.join(', ')}`,
      'use configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret volumes');
  }
  const unsafe = (sc.sysctls ?? []).map((s: Json) => s.name).filter((n: string) => !SAFE_SYSCTLS.has(n));
  if (unsafe.length) add(RULE.SYSCTLS, 'baseline', `sets unsafe sysctls ${unsafe.join(', ')}`, 'set only the safe sysctls (kernel.shm_rmid_forced, net.ipv4.*port_range, ...)');
  if (sc.runAsNonRoot === false) add(RULE.RUN_AS_NON_ROOT, 'restricted', 'securityContext.runAsNonRoot is false', 'set securityContext.runAsNonRoot: true');
  if (sc.runAsUser === 0) add(RULE.RUN_AS_NON_ROOT, 'restricted', 'securityContext.runAsUser is 0', 'set securityContext.runAsUser to a non-zero uid');
  if (sc.seccompProfile?.type === 'Unconfined') add(RULE.SECCOMP, 'baseline', 'seccomp profile is Unconfined', 'set securityContext.seccompProfile.type: RuntimeDefault');
  const selinux = badSeLinux(sc.seLinuxOptions);
  if (selinux) add(RULE.SELINUX, 'baseline', selinux, 'remove securityContext.seLinuxOptions, or use type container_t');
  if (sc.appArmorProfile?.type === 'Unconfined') add(RULE.APPARMOR, 'baseline', 'AppArmor profile is Unconfined', 'remove securityContext.appArmorProfile or use RuntimeDefault');
  return out;
}

/**
 * Pod Security Standards checks of one container (init, sidecar, app or ephemeral),
 * with the pod-level fields it inherits.
 */
export function containerRules(c: Json, pod: PodView): RawFinding[] {
  const sc = c.securityContext ?? {};
  const podSc = pod.spec.securityContext ?? {};
  const out: RawFinding[] = [];
  const add = (rule: string, level: Level, message: string, fix: string, item?: string) => out.push({ rule, level, message, fix, item });

  if (sc.privileged === true) add(RULE.PRIVILEGED, 'baseline', 'is privileged', 'remove securityContext.privileged');
  if (sc.windowsOptions?.hostProcess === true) add(RULE.HOST_PROCESS, 'baseline', 'is a Windows HostProcess container', 'remove securityContext.windowsOptions.hostProcess');
  const hostPorts = (c.ports ?? []).map((p: Json) => p.hostPort).filter((p: unknown) => p !== undefined && p !== 0);
  if (hostPorts.length) add(RULE.HOST_PORTS, 'baseline', `uses host port ${hostPorts.join(', ')}`, 'remove ports[].hostPort and expose the port with a Service');
  if (sc.procMount !== undefined && sc.procMount !== 'Default') add(RULE.PROC_MOUNT, 'baseline', `procMount is ${sc.procMount}`, 'remove securityContext.procMount');
  const selinux = badSeLinux(sc.seLinuxOptions);
  if (selinux) add(RULE.SELINUX, 'baseline', selinux, 'remove securityContext.seLinuxOptions, or use type container_t');
  const apparmor = pod.annotations[`${APPARMOR_ANNOTATION}${c.name}`];
  if (sc.appArmorProfile?.type === 'Unconfined' || (apparmor !== undefined && apparmor !== 'runtime/default' && !apparmor.startsWith('localhost/'))) {
    add(RULE.APPARMOR, 'baseline', `AppArmor profile is ${sc.appArmorProfile?.type ?? apparmor}`, 'use the runtime/default (RuntimeDefault) or a localhost AppArmor profile');
  }

  if (sc.allowPrivilegeEscalation !== false) add(RULE.PRIVILEGE_ESCALATION, 'restricted', 'allowPrivilegeEscalation is not false', 'set securityContext.allowPrivilegeEscalation: false');
  if (sc.runAsNonRoot === false || (sc.runAsNonRoot === undefined && podSc.runAsNonRoot === undefined)) {
    add(RULE.RUN_AS_NON_ROOT, 'restricted', 'runAsNonRoot is not true', 'set securityContext.runAsNonRoot: true');
  }
  if (sc.runAsUser === 0) add(RULE.RUN_AS_NON_ROOT, 'restricted', 'runs as uid 0', 'set securityContext.runAsUser to a non-zero uid');
  const seccomp = sc.seccompProfile?.type;
  if (seccomp === 'Unconfined') {
    add(RULE.SECCOMP, 'baseline', 'seccomp profile is Unconfined', 'set securityContext.seccompProfile.type: RuntimeDefault');
  } else if (seccomp === undefined && podSc.seccompProfile?.type === undefined) {
    add(RULE.SECCOMP, 'restricted', 'has no RuntimeDefault or Localhost seccomp profile', 'set securityContext.seccompProfile.type: RuntimeDefault');
  }
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) add(RULE.CAPABILITIES, 'restricted', 'does not drop ALL capabilities', 'set securityContext.capabilities.drop: [ALL]');
  for (const cap of (sc.capabilities?.add ?? []) as string[]) {
    if (cap === 'NET_BIND_SERVICE') continue;
    add(RULE.CAPABILITIES, BASELINE_CAPABILITIES.has(cap) ? 'restricted' : 'baseline', `adds capability ${cap}`, 'add no capability but NET_BIND_SERVICE', cap);
  }
  return out;
}

/**
 * This project's defaults for init containers, native sidecars included, beyond
 * the Pod Security Standards. A sidecar is a long-running container: it gets
 * every rule; only probes and lifecycle hooks are allowed on it and not on an
 * ordinary init container.
 */
export function initContainerRules(c: Json): RawFinding[] {
  return [...readOnlyRoot(c), ...resources(c), ...image(c), ...termination(c), ...literalSecrets(c), ...probes(c)];
}

function badSeLinux(options: Json): string | undefined {
  if (!options) return undefined;
  const bad = [
    options.type && !SELINUX_TYPES.has(options.type) && `type ${options.type}`,
    options.user && `user ${options.user}`,
    options.role && `role ${options.role}`,
  ].filter(Boolean);
  return bad.length ? `sets SELinux ${bad.join(', ')}` : undefined;
}

function readOnlyRoot(c: Json): RawFinding[] {
  return c.securityContext?.readOnlyRootFilesystem === true ? [] : [{
    rule: RULE.READ_ONLY_ROOT_FILESYSTEM,
    message: 'has a writable root filesystem',
    fix: 'set securityContext.readOnlyRootFilesystem: true and write to mounted volumes',
  }];
}

function resources(c: Json): RawFinding[] {
  const r = c.resources ?? {};
  const missing = [
    !r.requests?.cpu && 'cpu request',
    !r.requests?.memory && 'memory request',
    !r.limits?.memory && 'memory limit',
  ].filter(Boolean);
  return missing.length ? [{ rule: RULE.RESOURCES, message: `has no ${missing.join(', ')}`, fix: 'set resources.requests.cpu/memory and resources.limits.memory' }] : [];
}

function image(c: Json): RawFinding[] {
  return isPinnedImage(c.image ?? '') ? [] : [{
    rule: RULE.PINNED_IMAGE, message: `image "${c.image}" is not pinned`, fix: 'pin the image to a version tag or a sha256 digest',
  }];
}

function termination(c: Json): RawFinding[] {
  return c.terminationMessagePolicy === 'FallbackToLogsOnError' ? [] : [{
    rule: RULE.TERMINATION_MESSAGE,
    message: 'terminationMessagePolicy is not FallbackToLogsOnError',
    fix: 'set terminationMessagePolicy: FallbackToLogsOnError so kubectl describe shows why it failed',
  }];
}

function literalSecrets(c: Json): RawFinding[] {
  const out: RawFinding[] = [];
  for (const e of c.env ?? []) {
    if (e.value !== undefined && e.value !== '' && looksLikeSecretName(e.name)) {
      out.push({ rule: RULE.LITERAL_SECRET, message: `env ${e.name} has a literal value`, fix: 'take it from a Secret with valueFrom.secretKeyRef' });
    }
  }
  const words = [...c.command ?? [], ...c.args ?? []].join(' ');
  if (SECRET_IN_ARGS.some(p => p.test(words))) {
    out.push({ rule: RULE.LITERAL_SECRET, message: 'command or args contain what looks like a credential', fix: 'pass credentials as env vars from a Secret, not on the command line' });
  }
  return out;
}

function probes(c: Json): RawFinding[] {
  if (isSidecar(c)) return []; // the API server allows probes and lifecycle hooks on a native sidecar
  const present = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'].filter(k => c[k] !== undefined);
  return present.length ? [{
    rule: RULE.PROBES, message: `has ${present.join(', ')}, which the API server rejects on init containers`, fix: 'remove them, or make it a native sidecar (restartPolicy: Always)',
  }] : [];
}
