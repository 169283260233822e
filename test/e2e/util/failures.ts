/**
 * Helpers of test/e2e/failures.e2e.ts: small workloads synthesized with the
 * library, what `kubectl get pods` and the pod status say about a failed init
 * container, an expired certificate, a server that never answers, and the
 * processes of a pod as the node sees them (for SIGTERM timings).
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parse } from 'yaml';
import { APP_IMAGE, APP_RESOURCES, synthChart as synthChartObjects } from './chart-kit';
import { describePods, getJson, kubectl, waitFor } from './kube';

/** The props of a small app container (the web stand-in, uid 1000). */
export function appContainer(): kplus.ContainerProps {
  return {
    name: 'app',
    image: APP_IMAGE,
    portNumber: 8080,
    resources: APP_RESOURCES,
    securityContext: { user: 1000, group: 1000 },
  };
}

/** A chart in `namespace`, built by `build`, synthesized to YAML. */
export function synthChart(namespace: string, build: (chart: Chart) => void): string {
  return synthChartObjects(namespace, build).text;
}

/** One row of `kubectl get pods`: its STATUS column, as kubectl computes it. */
export async function statusColumn(namespace: string, pod: string): Promise<string> {
  const row = (await kubectl(['get', 'pod', '-n', namespace, pod, '--no-headers'])).trim().split(/\s+/);
  return row[2];
}

/** The last termination of a container (its current state, else its last state). */
export function lastTermination(pod: any, container: string): any | undefined {
  const status = [...pod.status?.initContainerStatuses ?? [], ...pod.status?.containerStatuses ?? []]
    .find((s: any) => s.name === container);
  return status?.state?.terminated ?? status?.lastState?.terminated;
}

/** A failed init container, as the pod status and `kubectl get pods` show it. */
export interface InitFailure {
  readonly pod: string;
  /** STATUS in `kubectl get pods`. */
  readonly status: string;
  readonly exitCode: number;
  /** The termination message. */
  readonly message: string;
  /** Every init container's exit code, in order (a not yet terminated one is absent). */
  readonly exitCodes: Record<string, number | undefined>;
}

/**
 * Waits until an init container of a pod (the one named `podName`, else the
 * newest matching `selector`) has terminated with a non-zero exit and
 * `kubectl get pods` shows Init:Error or Init:CrashLoopBackOff.
 */
export async function initFailure(
  namespace: string, target: { podName?: string; selector?: string }, container: string, timeoutMs: number,
): Promise<InitFailure> {
  return waitFor(`init container ${container} in ${namespace} to fail`, timeoutMs, async () => {
    let pod: any;
    if (target.podName) {
      pod = await getJson(['pod', '-n', namespace, target.podName]);
    } else {
      const items = (await getJson(['pods', '-n', namespace, '-l', target.selector!])).items
        .filter((p: any) => !p.metadata.deletionTimestamp)
        .sort((a: any, b: any) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
      pod = items[items.length - 1];
    }
    if (!pod) return undefined;
    const terminated = lastTermination(pod, container);
    if (!terminated || terminated.exitCode === 0) return undefined;
    const status = await statusColumn(namespace, pod.metadata.name);
    if (status !== 'Init:Error' && status !== 'Init:CrashLoopBackOff') return undefined;
    const exitCodes: Record<string, number | undefined> = {};
    for (const s of pod.status.initContainerStatuses ?? []) exitCodes[s.name] = (s.state?.terminated ?? s.lastState?.terminated)?.exitCode;
    return { pod: pod.metadata.name, status, exitCode: terminated.exitCode, message: terminated.message ?? '', exitCodes };
  }, () => describePods(namespace));
}

/** The last non-empty line of a text. */
export function lastLine(text: string): string {
  const lines = text.split('\n').filter(l => l.trim() !== '');
  return lines[lines.length - 1] ?? '';
}

/** A certificate and key for `cn`, valid only from `start` to `end` (openssl dates, e.g. 20250101000000Z). */
export function certificateValidBetween(cn: string, start: string, end: string): { cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-cert-'));
  try {
    const at = (f: string) => path.join(dir, f);
    const quiet = { stdio: 'pipe' as const };
    fs.writeFileSync(at('index.txt'), '');
    fs.writeFileSync(at('serial'), '01\n');
    fs.writeFileSync(at('ca.cnf'), [
      '[ca]', 'default_ca = e2e',
      '[e2e]', `database = ${at('index.txt')}`, `serial = ${at('serial')}`, `new_certs_dir = ${dir}`,
      'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = copy',
      '[any]', 'commonName = supplied', '',
    ].join('\n'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=e2e failures CA',
      '-keyout', at('ca.key'), '-out', at('ca.crt')], quiet);
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`,
      '-keyout', at('tls.key'), '-out', at('tls.csr')], quiet);
    // `openssl x509 -req` cannot date a certificate in the past; `openssl ca` can.
    execFileSync('openssl', ['ca', '-batch', '-notext', '-config', at('ca.cnf'), '-cert', at('ca.crt'), '-keyfile', at('ca.key'),
      '-startdate', start, '-enddate', end, '-in', at('tls.csr'), '-out', at('tls.crt')], quiet);
    return { cert: fs.readFileSync(at('tls.crt'), 'utf8'), key: fs.readFileSync(at('tls.key'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A TCP server on `host:port` that accepts connections and never answers (a TLS handshake hangs). */
export async function silentServer(host: string, port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer(s => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    close: () => new Promise<void>(resolve => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// --- The node's view of a pod -------------------------------------------------------------------

/**
 * The processes of a pod: those whose cgroup (v1, the kubelet's cgroupfs
 * driver) is under the pod's (`…/pod<uid>/<container id>`). The tests run in
 * the cluster's PID namespace, so /proc shows every container process.
 */
export function podProcesses(uid: string): Array<{ pid: number; container: string }> {
  const marks = [`/pod${uid}/`, `/pod${uid.replace(/-/g, '_')}/`];
  const out: Array<{ pid: number; container: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cgroups: string;
    try {
      cgroups = fs.readFileSync(`/proc/${entry}/cgroup`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    for (const line of cgroups.split('\n')) {
      const mark = marks.find(m => line.includes(m));
      if (!mark) continue;
      const rest = line.slice(line.indexOf(mark) + mark.length);
      out.push({ pid: Number(entry), container: rest.split('/')[0] });
      break;
    }
  }
  return out;
}

/** The command name of a process (its comm), or '' if it is gone. */
export function commandName(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The API server's address and the admin client certificate, from KUBECONFIG. */
function apiClient(): { server: URL; ca: Buffer; cert: Buffer; key: Buffer } {
  const config = parse(fs.readFileSync(process.env.KUBECONFIG!, 'utf8'));
  const cluster = config.clusters[0].cluster;
  const user = config.users[0].user;
  return {
    server: new URL(cluster.server),
    ca: fs.readFileSync(cluster['certificate-authority']),
    cert: fs.readFileSync(user['client-certificate']),
    key: fs.readFileSync(user['client-key']),
  };
}

/**
 * DELETE of a pod straight to the API server (no kubectl start-up in the
 * timing), with the pod's own grace period. Resolves with the HTTP status when
 * the API server has answered.
 */
export function deletePodRequest(namespace: string, pod: string): Promise<number> {
  const client = apiClient();
  return new Promise((resolve, reject) => {
    const req = https.request({
      method: 'DELETE',
      host: client.server.hostname,
      port: client.server.port,
      path: `/api/v1/namespaces/${namespace}/pods/${pod}`,
      ca: client.ca,
      cert: client.cert,
      key: client.key,
    }, res => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The CRI log file of a container (containerd writes it; the kubelet removes it
 * with the pod), opened now so that it stays readable after it is removed.
 */
export function openContainerLog(namespace: string, pod: string, uid: string, container: string): { read(): string; close(): void } | undefined {
  const dir = `/var/log/pods/${namespace}_${pod}_${uid}/${container}`;
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter(f => /^\d+\.log$/.test(f)).sort((a, b) => parseInt(a) - parseInt(b));
  } catch {
    return undefined;
  }
  if (files.length === 0) return undefined;
  const fd = fs.openSync(path.join(dir, files[files.length - 1]), 'r');
  return {
    read: () => {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(65536);
      let pos = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        pos += n;
      }
      // CRI format: "<time> <stream> <F|P> <text>"; P lines are parts of one line.
      let text = '';
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
        const m = /^\S+ (stdout|stderr) ([FP]) ?(.*)$/.exec(line);
        if (!m) continue;
        text += m[3] + (m[2] === 'F' ? '\n' : '');
      }
      return text;
    },
    close: () => fs.closeSync(fd),
  };
}

/**
 * Sends SIGTERM to a container through the container runtime, as the kubelet's
 * StopContainer does (`ctr tasks kill`: containerd, the shim, runc), and
 * measures, by scanning /proc every few ms, the ms until no process of the
 * container remains (at most `limitMs`, which is then the result).
 */
export async function sigtermAndTime(uid: string, containerId: string, limitMs: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const sent = promisify(execFile)('ctr', ['-n', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGTERM', containerId]);
  for (;;) {
    const t = ms();
    if (!podProcesses(uid).some(p => p.container === containerId) || t > limitMs) {
      await sent;
      return t;
    }
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}

/** What deleting a pod took, as the node saw it. */
export interface DeletionTiming {
  /** ms from sending the DELETE to the API server's answer. */
  readonly apiMs: number;
  /** ms from sending the DELETE until no process of the given container remained. */
  readonly containerGoneMs: number;
  /** ms from sending the DELETE until no process of the pod (sandbox included) remained. */
  readonly podGoneMs: number;
  /** The processes of the pod just before the DELETE. */
  readonly before: Array<{ pid: number; container: string; command: string }>;
  /** When the DELETE was sent, ms since the epoch. */
  readonly t0Epoch: number;
}

/**
 * When containerd sent SIGTERM to a container (ms since the epoch), from its
 * log line "Stop container <id> with signal terminated", if it logged one.
 */
export function sigtermSentAt(containerId: string): number | undefined {
  const file = path.join(process.env.E2E_LOGS ?? '', 'containerd.log');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pattern = new RegExp(`time="([^"]+)" level=\\w+ msg="Stop container \\\\"${containerId}\\\\" with signal terminated"`);
  const m = pattern.exec(text);
  if (!m) return undefined;
  // 2026-11-25T17:52:54.623676509Z: Date.parse takes milliseconds only.
  const [, whole, frac] = /^(.*?)(?:\.(\d+))?Z$/.exec(m[1])!;
  return Date.parse(`${whole}Z`) + Number(`0.${frac ?? '0'}`) * 1000;
}

/**
 * Deletes a pod (its own grace period) and measures, by scanning /proc every
 * few ms, when the processes of `containerId` and then of the whole pod are gone.
 * Gives up after `limitMs`, reporting that as the time.
 */
export async function deleteAndTime(namespace: string, pod: string, uid: string, containerId: string, limitMs: number): Promise<DeletionTiming> {
  const before = podProcesses(uid).map(p => ({ ...p, command: commandName(p.pid) }));
  const t0 = process.hrtime.bigint();
  const t0Epoch = Date.now();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  let apiMs = -1;
  const answered = deletePodRequest(namespace, pod).then(code => {
    apiMs = ms();
    if (code !== 200 && code !== 202) throw new Error(`DELETE pod ${namespace}/${pod} answered HTTP ${code}`);
  });
  let containerGoneMs = -1;
  let podGoneMs = -1;
  while (podGoneMs < 0) {
    const now = podProcesses(uid);
    const t = ms();
    if (containerGoneMs < 0 && !now.some(p => p.container === containerId)) containerGoneMs = t;
    if (now.length === 0) podGoneMs = t;
    if (t > limitMs) {
      if (containerGoneMs < 0) containerGoneMs = t;
      podGoneMs = t;
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  await answered;
  return { apiMs, containerGoneMs, podGoneMs, before, t0Epoch };
}
