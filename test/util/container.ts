/**
 * Runs a synthesized container the way the kubelet and the container runtime
 * would, so a script test proves what happens in a pod:
 * - the kubelet's `$(VAR)` / `$$` expansion is applied to command, args and env;
 * - the process is PID 1 of its own PID namespace (`unshare --pid --fork`);
 * - it runs as the uid/gid of its securityContext (else the image's root), with
 *   the pod's fsGroup and supplementalGroups, only the capabilities the context
 *   adds (none unless it runs as root), and no_new_privs (`setpriv`);
 * - its root filesystem is read-only (when the context says so), and each
 *   volume is bind-mounted at its mount path, read-only where the mount is;
 * - its PATH holds only the image's busybox applets and the tools the image adds;
 * - the network is loopback only: `npm test` runs jest in its own network namespace.
 * Why not a real runtime: see "Tests" in the README.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { containerArgv, containerEnv } from './kubelet';
import { PLUS_LINE, RUNS_CONTAINERS } from './line';

/** A busybox build the scripts must work under. */
export interface BusyboxBuild {
  /** "debian" (Debian's package) or "defconfig" (make defconfig from Debian's source, as the official image). */
  readonly name: string;
  /** The binary. */
  readonly binary: string;
}

const CACHE = process.env.CDK8S_INIT_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cdk8s-init');

function which(tool: string): string {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'which', tool], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${tool} is not installed; npm test provisions it (test/provision.sh)`);
  }
}

/** Debian's busybox, and the defconfig build test/provision.sh caches. */
export const BUSYBOX_BUILDS: BusyboxBuild[] = [
  { name: 'debian', binary: '/bin/busybox' },
  { name: 'defconfig', binary: path.join(CACHE, 'busybox-defconfig', 'busybox') },
];

/** Debian's busybox. */
export const DEBIAN_BUSYBOX = BUSYBOX_BUILDS[0];

/**
 * Runs `fn` once per busybox build inside a describe block named after it; in a
 * later cdk8s-plus line's run the block is skipped (see `RUNS_CONTAINERS`).
 */
export function forEachBusybox(fn: (busybox: BusyboxBuild) => void): void {
  const describeEach = RUNS_CONTAINERS ? describe.each : describe.skip.each;
  describeEach(BUSYBOX_BUILDS.map(b => [b.name, b] as const))('under %s busybox', (_name, busybox) => fn(busybox));
}

// Outside jest (the benchmarks load this harness) there is no describe or test to pick from.
const inJest = typeof describe !== 'undefined';

/** `describe`, skipped in a later cdk8s-plus line's run: for container tests outside `forEachBusybox`. */
export const describeContainers: jest.Describe = inJest ? (RUNS_CONTAINERS ? describe : describe.skip) : undefined as any;

/** `test`, skipped in a later cdk8s-plus line's run: a container test outside `forEachBusybox`. */
export const testContainers: jest.It = inJest ? (RUNS_CONTAINERS ? test : test.skip) : undefined as any;

function assertContainerRun(): void {
  if (!RUNS_CONTAINERS) {
    throw new Error(`container runs belong to the design line's run, not cdk8s-plus-${PLUS_LINE}'s: wrap the test in forEachBusybox or describeContainers`);
  }
}

const appletDirs = new Map<string, string>();

/** A directory holding the build's binary as `busybox` and a symlink per applet: the image's /bin. */
function appletDir(busybox: BusyboxBuild): string {
  let dir = appletDirs.get(busybox.name);
  if (!dir) {
    if (!fs.existsSync(busybox.binary)) throw new Error(`busybox build ${busybox.name} not found at ${busybox.binary}; npm test builds it (test/provision.sh)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `busybox-${busybox.name}-`));
    fs.copyFileSync(busybox.binary, path.join(dir, 'busybox'));
    fs.chmodSync(path.join(dir, 'busybox'), 0o755);
    const applets = execFileSync(busybox.binary, ['--list'], { encoding: 'utf8' }).split('\n').filter(a => a && a !== 'busybox');
    for (const applet of applets) fs.symlinkSync('/bin/busybox', path.join(dir, applet));
    fs.chmodSync(dir, 0o755);
    appletDirs.set(busybox.name, dir);
  }
  return dir;
}

const toolDirs = new Map<string, string>();

/** A directory of symlinks to the named host tools: the image's /usr/local/bin. */
function toolDir(tools: string[]): string {
  const key = [...tools].sort().join(' ');
  let dir = toolDirs.get(key);
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-'));
    for (const tool of tools) fs.symlinkSync(fs.realpathSync(which(tool)), path.join(dir, tool));
    fs.chmodSync(dir, 0o755);
    toolDirs.set(key, dir);
  }
  return dir;
}

/**
 * The sandbox's mounts must not reach the host. unshare makes the new mount namespace private by
 * remounting "/", which fails in a chroot (its "/" is no mount point); where no mount is shared
 * (no "shared:" in mountinfo, as in the fresh-machine chroot) nothing propagates anyway.
 */
const PROPAGATION = /\bshared:\d+/.test(fs.readFileSync('/proc/self/mountinfo', 'utf8')) ? 'private' : 'unchanged';

let loopbackChecked = false;

/** The tests' network must be loopback only: a script must not reach, or depend on, anything else. */
function assertLoopbackOnly(): void {
  if (loopbackChecked) return;
  const interfaces = fs.readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)
    .map(line => line.split(':')[0].trim()).filter(Boolean);
  if (interfaces.some(i => i !== 'lo')) {
    throw new Error(`the script tests must run with loopback as the only network (found ${interfaces.join(', ')}); run them with npm test, which runs jest under test/loopback-only.sh`);
  }
  loopbackChecked = true;
}

/**
 * A directory set up as the kubelet sets up an emptyDir: root-owned and 0777;
 * with an fsGroup, group-owned by it with the setgid bit (2777).
 */
export function emptyDir(fsGroup?: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emptydir-'));
  fs.chownSync(dir, 0, fsGroup ?? 0);
  fs.chmodSync(dir, fsGroup === undefined ? 0o777 : 0o2777);
  return dir;
}

/** Outcome of one run. */
export interface RunResult {
  /** Exit code; 128 + the signal number when the process was killed by a signal. */
  readonly code: number;
  /** stdout and stderr, interleaved, as the container log. */
  readonly output: string;
  /** The last non-empty line of the log: what FallbackToLogsOnError puts in the termination message. */
  readonly lastLine: string;
  /** Wall time in milliseconds. */
  readonly ms: number;
  /** With `sigtermAfterMs`: milliseconds from SIGTERM to the process's exit. */
  readonly exitAfterSigtermMs?: number;
}

/** Options of a run. */
export interface RunOptions {
  /** The busybox build of the image. @default DEBIAN_BUSYBOX */
  readonly busybox?: BusyboxBuild;
  /**
   * Values of the env vars the manifest takes from secretKeyRef, fieldRef or
   * resourceFieldRef (as the kubelet resolves them), and extra variables the
   * manifest does not set. Literal values of the manifest cannot be overridden.
   */
  readonly env?: Record<string, string>;
  /** Host directory per volume name: the volume's contents. Missing emptyDirs are created as the kubelet would. */
  readonly volumes?: Record<string, string>;
  /** Extra bind mounts, container path -> host directory (e.g. a projected service account token). */
  readonly mounts?: Record<string, string>;
  /** Tools the image has besides busybox, taken from the host (e.g. curl, git, openssl). */
  readonly tools?: string[];
  /** The pod spec the container belongs to (volumes, fsGroup); found automatically for containers from `initContainersOf`. */
  readonly pod?: any;
  /** SIGKILL the container after this long. @default 60000 */
  readonly killAfterMs?: number;
  /** Send SIGTERM to PID 1 after this long, as the kubelet does when the pod is deleted. */
  readonly sigtermAfterMs?: number;
  /** Resolves when the test should send SIGTERM (e.g. once the log shows the step is waiting); overrides sigtermAfterMs. */
  readonly sigtermWhen?: (output: () => string, finished: () => boolean) => Promise<void>;
}

const PODS = new WeakMap<object, any>();

/** Records the pod spec a synthesized container object belongs to (manifest.ts does this). */
export function rememberPod(container: object, pod: any): void {
  PODS.set(container, pod);
}

/** The kubelet's view of the container's identity: uid, gid, groups, capabilities. */
function identity(container: any, pod: any): string[] {
  const podContext = pod?.securityContext ?? {};
  const context = container.securityContext ?? {};
  const uid = context.runAsUser ?? podContext.runAsUser ?? 0;
  const gid = context.runAsGroup ?? podContext.runAsGroup ?? 0;
  if (uid === 0 && (context.runAsNonRoot ?? podContext.runAsNonRoot)) {
    throw new Error(`${container.name}: runAsNonRoot with uid 0: the kubelet refuses to start it (CreateContainerConfigError)`);
  }
  const groups = [...podContext.supplementalGroups ?? [], ...podContext.fsGroup !== undefined ? [podContext.fsGroup] : []];
  const dropped: string[] = context.capabilities?.drop ?? [];
  const added: string[] = (context.capabilities?.add ?? []).map((c: string) => c.toLowerCase().replace(/^cap_/, ''));
  // Without drop ALL the runtime's default set applies; the library always drops ALL, so a test
  // of anything else must say which capabilities it expects.
  if (!dropped.includes('ALL')) throw new Error(`${container.name}: the harness models only containers that drop ALL capabilities`);
  // runc gives a non-root process no effective capabilities (no ambient set): only root gets the added ones.
  const bounding = ['-all', ...added.map(c => `+${c}`)].join(',');
  const args = [
    `--reuid=${uid}`, `--regid=${gid}`,
    groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups',
    '--inh-caps=-all', `--bounding-set=${bounding}`,
  ];
  if (context.allowPrivilegeEscalation === false) args.push('--no-new-privs');
  return args;
}

/** Host directory and mode for every volume mount of the container. */
function volumeMounts(container: any, pod: any, options: RunOptions): string[] {
  const mounts: Array<[string, string, string]> = [];
  const dirs = new Map<string, string>();
  for (const m of container.volumeMounts ?? []) {
    let dir = options.volumes?.[m.name] ?? dirs.get(m.name);
    if (!dir) {
      const volume = (pod?.volumes ?? []).find((v: any) => v.name === m.name);
      if (volume && !volume.emptyDir) throw new Error(`${container.name}: give the contents of ${JSON.stringify(volume)} in options.volumes`);
      dir = emptyDir(pod?.securityContext?.fsGroup);
    }
    dirs.set(m.name, dir);
    const host = m.subPath ? path.join(dir, m.subPath) : dir;
    if (m.subPath) fs.mkdirSync(host, { recursive: true });
    mounts.push([host, m.mountPath, m.readOnly ? 'ro' : 'rw']);
  }
  for (const [target, host] of Object.entries(options.mounts ?? {})) mounts.push([host, target, 'ro']);
  // Parents before children, as container runtimes order mounts: /liquibase before /liquibase/changelog.
  mounts.sort((a, b) => a[1].split('/').length - b[1].split('/').length);
  return mounts.flatMap(([host, target, mode]) => ['--mount', host, target, mode]);
}

/** Runs a synthesized container to its exit. */
export async function runContainer(container: any, options: RunOptions = {}): Promise<RunResult> {
  assertContainerRun();
  assertLoopbackOnly();
  const pod = options.pod ?? PODS.get(container);
  const literal = new Set((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => e.name));
  for (const name of Object.keys(options.env ?? {})) {
    if (literal.has(name)) throw new Error(`${container.name}: env ${name} is set in the manifest; a test must not change it`);
  }
  const env = { ...containerEnv(container, options.env ?? {}), ...options.env };
  const argv = containerArgv(container, env);
  if (argv.length === 0) throw new Error(`${container.name}: the harness needs the container's command`);
  const busybox = options.busybox ?? DEBIAN_BUSYBOX;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'container-'));
  const processEnv = {
    PATH: '/usr/local/bin:/bin',
    HOME: '/',
    HOSTNAME: 'test-pod',
    ...env,
  };
  const readOnlyRoot = container.securityContext?.readOnlyRootFilesystem === true;
  const sandboxArgs = [
    '--pid', '--fork', '--mount', '--uts', '--propagation', PROPAGATION, '--kill-child=SIGKILL', '--',
    'bash', path.join(__dirname, 'sandbox.sh'), root,
    ...volumeMounts(container, pod, options),
    '--rootfs', readOnlyRoot ? 'ro' : 'rw', '--hostname', 'test-pod', '--',
    // runc makes the container's process a session leader: its process group is the container's.
    '/usr/bin/setsid', '/usr/bin/env', '-i', ...container.workingDir ? ['-C', container.workingDir] : [],
    ...Object.entries(processEnv).map(([k, v]) => `${k}=${v}`),
    '/usr/bin/setpriv', ...identity(container, pod), '--', ...argv,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', sandboxArgs, {
      env: { PATH: process.env.PATH, SANDBOX_BIN: appletDir(busybox), SANDBOX_TOOLS: toolDir(options.tools ?? []) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let termAt: number | undefined;
    let done = false;
    child.stdout.on('data', d => { output += d; });
    child.stderr.on('data', d => { output += d; });
    // The runtime signals the container's PID 1: unshare's only child. SIGKILL to it ends the
    // whole PID namespace, as a runtime's kill does.
    const signalPid1 = (signal: NodeJS.Signals) => {
      let children: string[] = [];
      try {
        children = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch { /* already gone */ }
      for (const pid of children) {
        try { process.kill(Number(pid), signal); } catch { /* already gone */ }
      }
    };
    const sigterm = () => {
      if (done) return;
      termAt = Date.now();
      signalPid1('SIGTERM');
    };
    const killTimer = setTimeout(() => { signalPid1('SIGKILL'); child.kill('SIGKILL'); }, options.killAfterMs ?? 60_000);
    let termTimer: NodeJS.Timeout | undefined;
    if (options.sigtermWhen) {
      // A condition never met is the test's to report (the run ends, or is killed, without SIGTERM).
      options.sigtermWhen(() => output, () => done).then(sigterm, () => undefined);
    } else if (options.sigtermAfterMs !== undefined) {termTimer = setTimeout(sigterm, options.sigtermAfterMs);}
    child.on('error', reject);
    child.on('close', (code, signal) => {
      done = true;
      const ended = Date.now();
      clearTimeout(killTimer);
      if (termTimer) clearTimeout(termTimer);
      fs.rmSync(root, { recursive: true, force: true });
      resolve({
        code: code ?? 128 + (os.constants.signals[signal as keyof typeof os.constants.signals] ?? 0),
        output,
        lastLine: lastLine(output),
        ms: ended - started,
        exitAfterSigtermMs: termAt === undefined ? undefined : ended - termAt,
      });
    });
  });
}

/** Runs `sh -c script sh args...` in a restricted busybox container (uid 65532, no capabilities). */
export function runScript(script: string, args: string[] = [], options: RunOptions = {}): Promise<RunResult> {
  return runContainer({
    name: 'script',
    command: ['sh', '-c', script.replace(/\$/g, '$$$$'), 'sh', ...args.map(a => a.replace(/\$/g, '$$$$'))],
    securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    volumeMounts: Object.keys(options.volumes ?? {}).map(name => ({ name, mountPath: `/${name}` })),
  }, { pod: { volumes: [] }, ...options });
}

/** The last non-empty line of a log. */
export function lastLine(output: string): string {
  const lines = output.split('\n').filter(l => l.trim() !== '');
  return lines[lines.length - 1] ?? '';
}

/** Resolves once `output()` matches `pattern` (polls every 20 ms); rejects when the run ends first or after `timeoutMs`. */
export function whenOutput(pattern: RegExp, timeoutMs = 30_000): (output: () => string, finished: () => boolean) => Promise<void> {
  return (output, finished) => new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (pattern.test(output())) {
        clearInterval(poll);
        resolve();
      } else if (finished() || Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`the log never matched ${pattern} within ${timeoutMs} ms:\n${output()}`));
      }
    }, 20);
  });
}
