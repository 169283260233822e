/**
 * kubectl against the real-cluster tier's API server (KUBECONFIG is set by
 * test/e2e/cluster.sh), with waits that say what they waited for.
 */
import { execFile } from 'child_process';
import { promisify } from 'util';

const run = promisify(execFile);

/** Runs kubectl; `input` goes to its stdin. Rejects with kubectl's stderr. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = run('kubectl', args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (error: any) {
    throw new Error(`kubectl ${args.join(' ')}: ${String(error.stderr || error.message).trim()}`);
  }
}

/** kubectl get … -o json, parsed. */
export async function getJson(args: string[]): Promise<any> {
  return JSON.parse(await kubectl(['get', ...args, '-o', 'json']));
}

/** Applies manifests (YAML or JSON text) as they are. */
export async function apply(manifests: string, namespace?: string): Promise<void> {
  await kubectl(['apply', ...(namespace ? ['-n', namespace] : []), '-f', '-'], manifests);
}

/** Creates a namespace if it does not exist yet. */
export async function ensureNamespace(name: string): Promise<void> {
  const existing = await kubectl(['get', 'namespace', name, '--ignore-not-found', '-o', 'name']);
  if (!existing.trim()) await kubectl(['create', 'namespace', name]);
}

/** Deletes a namespace and waits until it is gone, so the next test starts from nothing. */
export async function deleteNamespace(name: string): Promise<void> {
  // Its pods go at once: the namespace controller would otherwise wait out each one's grace period.
  await kubectl(['delete', 'pods', '--all', '-n', name, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=true', '--timeout=120s']);
}

/**
 * Polls `probe` until it returns a value other than undefined, at most `timeoutMs`;
 * on timeout, fails with `what` and the last observation `describe` gives.
 */
export async function waitFor<T>(
  what: string, timeoutMs: number, probe: () => Promise<T | undefined>, describe?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error: any) {
      lastError = String(error.message ?? error);
    }
    if (Date.now() > deadline) {
      const state = describe ? await describe().catch(e => String(e)) : lastError;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state ? `: ${state}` : ''}`);
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

/** The pods of a namespace, optionally those matching a label selector. */
export async function pods(namespace: string, selector?: string): Promise<any[]> {
  return (await getJson(['pods', '-n', namespace, ...(selector ? ['-l', selector] : [])])).items;
}

/** One container's log (init or app container). */
export async function logs(namespace: string, pod: string, container: string, previous = false): Promise<string> {
  return kubectl(['logs', '-n', namespace, pod, '-c', container, ...(previous ? ['--previous'] : [])]);
}

/** A compact view of pods for failure messages: phase, and each container's state. */
export async function describePods(namespace: string): Promise<string> {
  const items = await pods(namespace);
  return items.map(p => {
    const states = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])]
      .map((s: any) => `${s.name}=${Object.keys(s.state ?? {})[0]}${s.state?.waiting?.reason ? `(${s.state.waiting.reason})` : ''}` +
        `${s.state?.terminated ? `(${s.state.terminated.exitCode})` : ''}`);
    const unscheduled = (p.status.conditions ?? []).find((c: any) => c.type === 'PodScheduled' && c.status !== 'True');
    return `${p.metadata.name} ${p.status.phase} [${states.join(' ')}]${unscheduled ? ` unscheduled: ${unscheduled.message}` : ''}`;
  }).join('; ') || `no pods in ${namespace}`;
}

/** Runs a command in a container of a running pod. */
export async function exec(namespace: string, pod: string, container: string, command: string[]): Promise<string> {
  return kubectl(['exec', '-n', namespace, pod, '-c', container, '--', ...command]);
}

/**
 * Kills a pod's sandbox (its pause container), as a node reboot or a runtime
 * crash would: the kubelet makes a new sandbox and runs the init containers
 * again, in the same pod, over the same emptyDir volumes.
 */
export async function killSandbox(pod: any): Promise<void> {
  const ctr = (args: string[]) => new Promise<string>((resolve, reject) =>
    execFile('ctr', ['-n', 'k8s.io', ...args], (error, stdout, stderr) => error ? reject(new Error(stderr || error.message)) : resolve(stdout)));
  // One filter, its conditions joined by commas (AND): separate filters would match either (OR).
  const ids = (await ctr(['containers', 'ls', '-q',
    `labels."io.kubernetes.pod.uid"==${pod.metadata.uid},labels."io.cri-containerd.kind"==sandbox`])).split('\n').filter(Boolean);
  if (ids.length === 0) throw new Error(`no sandbox for pod ${pod.metadata.namespace}/${pod.metadata.name}`);
  for (const id of ids) await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
}
