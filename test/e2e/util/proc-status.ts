/**
 * What a container process really runs with, read from /proc/self/status and
 * the root mount inside it, and what its synthesized securityContext says it
 * should run with: for comparing the two on a real kubelet and runtime.
 */
import { KubeObject } from './workloads';

/** The probe a step runs (or has prepended to its script): credentials, capabilities, no_new_privs, seccomp, root filesystem. */
export const PROBE = 'grep -E "^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ' +
  'touch /x && echo rootfs-writable || echo rootfs-readonly';

/**
 * The probe, plus the root mount's options (ro/rw): for a non-root process
 * `touch /x` fails on a writable root too (/ is root's 0755), so only the
 * mount tells read-only from not allowed.
 */
export const PROBE_WITH_MOUNT = `${PROBE}; awk '$5 == "/" { split($6, o, ","); print "RootMount:\\t" o[1] }' /proc/self/mountinfo`;

/** Linux capabilities (include/uapi/linux/capability.h) by the names Kubernetes uses, in bit order. */
const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** A capability set as /proc/self/status prints it: 16 hex digits. */
export function capabilityMask(names: string[]): string {
  let mask = 0n;
  for (const name of new Set(names.map(n => n.replace(/^CAP_/, '')))) {
    const bit = CAPABILITIES.indexOf(name);
    if (bit < 0) throw new Error(`unknown capability ${name}`);
    mask += 2n ** BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}

/** The process state the probe reports. */
export interface ProcessState {
  /** Real, effective, saved and filesystem uid. */
  readonly uid: number[];
  /** Real, effective, saved and filesystem gid. */
  readonly gid: number[];
  /** Supplementary groups, sorted. */
  readonly groups: number[];
  readonly capEff: string;
  readonly capPrm: string;
  readonly capBnd: string;
  /** 1 when no_new_privs is set. */
  readonly noNewPrivs: number;
  /** 0 none, 1 strict, 2 filter. */
  readonly seccomp: number;
  /** What `touch /x` found. */
  readonly rootfs: 'rootfs-writable' | 'rootfs-readonly';
  /** The root mount's first option, when the probe printed it. */
  readonly rootMount?: 'ro' | 'rw';
}

/** Parses the probe's lines out of a container log (other lines are ignored); fails if a field is missing. */
export function parseProbe(log: string): ProcessState {
  const fields = new Map<string, string>();
  let rootfs: string | undefined;
  for (const line of log.split('\n')) {
    const m = /^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp|RootMount):\s*(.*?)\s*$/.exec(line);
    if (m && !fields.has(m[1])) fields.set(m[1], m[2]);
    if (!rootfs && /^rootfs-(writable|readonly)$/.test(line.trim())) rootfs = line.trim();
  }
  const need = ['Uid', 'Gid', 'Groups', 'CapEff', 'CapPrm', 'CapBnd', 'NoNewPrivs', 'Seccomp'];
  const missing = need.filter(k => !fields.has(k));
  if (missing.length > 0 || !rootfs) {
    throw new Error(`the probe's output lacks ${[...missing, ...rootfs ? [] : ['rootfs-*']].join(', ')} in log: ${JSON.stringify(log.slice(0, 1500))}`);
  }
  const numbers = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(x => x).map(Number);
  return {
    uid: numbers('Uid'),
    gid: numbers('Gid'),
    groups: numbers('Groups').sort((a, b) => a - b),
    capEff: fields.get('CapEff')!,
    capPrm: fields.get('CapPrm')!,
    capBnd: fields.get('CapBnd')!,
    noNewPrivs: Number(fields.get('NoNewPrivs')),
    seccomp: Number(fields.get('Seccomp')),
    rootfs: rootfs as ProcessState['rootfs'],
    ...fields.has('RootMount') ? { rootMount: fields.get('RootMount') as 'ro' | 'rw' } : {},
  };
}

/**
 * What a container should run with, from its synthesized securityContext and
 * the pod's: uid/gid as set (the test's containers all set them); supplementary
 * groups the run-as gid (containerd lists it too), the pod's fsGroup and
 * supplementalGroups; capabilities ALL dropped then
 * `add`, in the bounding set, and effective/permitted only for uid 0 (Kubernetes
 * sets no ambient capabilities, so a non-root process keeps none); no_new_privs
 * from allowPrivilegeEscalation false; seccomp filter mode for RuntimeDefault.
 */
export function expectedState(container: any, podSpec: any, withMount: boolean): ProcessState {
  const sc = container.securityContext ?? {};
  const pod = podSpec.securityContext ?? {};
  const uid = sc.runAsUser ?? pod.runAsUser;
  const gid = sc.runAsGroup ?? pod.runAsGroup;
  if (uid === undefined || gid === undefined) throw new Error(`container ${container.name} sets no runAsUser/runAsGroup: cannot predict its ids`);
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) throw new Error(`container ${container.name} does not drop ALL capabilities: cannot predict its sets`);
  const added: string[] = sc.capabilities?.add ?? [];
  const groups = [...new Set([gid, ...pod.fsGroup !== undefined ? [pod.fsGroup] : [], ...pod.supplementalGroups ?? []])].sort((a, b) => a - b);
  const seccompType = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
  const readOnly = sc.readOnlyRootFilesystem === true;
  return {
    uid: [uid, uid, uid, uid],
    gid: [gid, gid, gid, gid],
    groups,
    capEff: uid === 0 ? capabilityMask(added) : capabilityMask([]),
    capPrm: uid === 0 ? capabilityMask(added) : capabilityMask([]),
    capBnd: capabilityMask(added),
    noNewPrivs: sc.allowPrivilegeEscalation === false ? 1 : 0,
    seccomp: seccompType === 'RuntimeDefault' ? 2 : 0,
    // A non-root process cannot create /x in root's / either way.
    rootfs: !readOnly && uid === 0 ? 'rootfs-writable' : 'rootfs-readonly',
    ...withMount ? { rootMount: readOnly ? 'ro' as const : 'rw' as const } : {},
  };
}

/**
 * The objects with `probe` run first in every init container of their pods
 * whose command is `sh -c SCRIPT` (the library's steps): the container keeps
 * its image, securityContext, mounts and script, so the probe sees exactly
 * what the step runs with, and the step still does its work.
 */
export function prependProbe(objects: KubeObject[], probe: string): KubeObject[] {
  const copy: KubeObject[] = JSON.parse(JSON.stringify(objects));
  for (const o of copy) {
    const spec = o.kind === 'Pod' ? o.spec : o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template?.spec : o.spec?.template?.spec;
    for (const c of spec?.initContainers ?? []) {
      const cmd = c.command;
      if (Array.isArray(cmd) && cmd.length === 3 && cmd[0] === 'sh' && cmd[1] === '-c' && !cmd[2].startsWith(PROBE)) {
        // The kubelet expands $(VAR) and $$ in commands: the probe has no "$(" and its "$" are single, which it leaves alone.
        c.command = ['sh', '-c', `${probe}\n${cmd[2]}`];
      }
    }
  }
  return copy;
}
