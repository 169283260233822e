/**
 * Runs generated init scripts for real under Debian's `busybox sh`, with a PATH
 * holding only busybox applets, as in the busybox image: a script that needs a
 * tool the image lacks fails here too.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

let appletDir: string | undefined;

/** A directory of symlinks, one per busybox applet. */
export function busyboxPath(): string {
  if (!appletDir) {
    const busybox = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
    if (!busybox) throw new Error('busybox is not installed (apt-get install -y busybox)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busybox-'));
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) fs.symlinkSync(busybox, path.join(dir, applet));
    appletDir = dir;
  }
  return appletDir;
}

/**
 * A directory holding only the named host tools (e.g. curl, git), to put before
 * the busybox applets on PATH: the image of a step has these tools besides busybox.
 */
export function toolPath(...tools: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-'));
  for (const tool of tools) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    if (!real) throw new Error(`${tool} is not installed`);
    fs.symlinkSync(real, path.join(dir, tool));
  }
  return dir;
}

/** Outcome of one script run. */
export interface RunResult {
  /** Exit code, or null when killed. */
  readonly code: number | null;
  /** stdout and stderr, interleaved. */
  readonly output: string;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

/** Options of a run. */
export interface RunOptions {
  /** Extra environment (secrets a manifest takes from secretKeyRef, test paths). */
  readonly env?: Record<string, string>;
  /** Working directory. */
  readonly cwd?: string;
  /** Kill the script after this long; a killed run has code null. */
  readonly killAfterMs?: number;
  /** Extra directories put before the busybox applets on PATH (tools the image has, e.g. git). */
  readonly extraPath?: string[];
}

/** Runs `busybox sh -c script args...` without blocking the event loop (test servers keep serving). */
export function runScript(script: string, args: string[] = [], options: RunOptions = {}): Promise<RunResult> {
  return runCommand([path.join(busyboxPath(), 'sh'), '-c', script, 'sh', ...args], options);
}

/**
 * Runs a synthesized init container (`command: [sh, -c, script]` plus args) with
 * the literal env values of its manifest; values from secretKeyRef, fieldRef or
 * resourceFieldRef must be supplied in `options.env`, as the kubelet would.
 */
export function runContainer(container: any, options: RunOptions = {}): Promise<RunResult> {
  const argv: string[] = [...container.command ?? [], ...container.args ?? []];
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (options.env?.[e.name] === undefined) throw new Error(`${container.name}: env ${e.name} comes from ${JSON.stringify(e.valueFrom)}; give it in options.env`);
  }
  const runOptions = { ...options, env: { ...env, ...options.env } };
  if (argv[0] === 'sh' && argv[1] === '-c') return runScript(argv[2], argv.slice(4), runOptions);
  return runCommand(argv, runOptions);
}

/** Runs a command (not a shell script) found on the busybox/extra PATH. */
export function runCommand(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const PATH = [...options.extraPath ?? [], busyboxPath()].join(':');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      env: { PATH, HOME: options.cwd ?? os.tmpdir(), ...options.env },
      cwd: options.cwd ?? os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', d => { output += d; });
    child.stderr.on('data', d => { output += d; });
    const timer = options.killAfterMs ? setTimeout(() => child.kill('SIGKILL'), options.killAfterMs) : undefined;
    child.on('error', reject);
    child.on('close', code => {
      if (timer) clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}
