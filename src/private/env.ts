import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { memoized } from './step-values';

// Names that carry credentials. A "_FILE" or "_PATH" suffix (a path to a mounted
// secret) does not match, because the name must end in one of these words.
const SECRET_NAME = /(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// What the API server accepts as a Secret or ConfigMap key (IsConfigMapKey).
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const DATA_KEY_MAX = 253;

/** True when an env var of this name with a literal value looks like a pasted secret. */
export function looksLikeSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Throws unless `key` is a key the API server accepts in a `secretKeyRef`:
 * 1 to 253 letters, digits, "-", "_" or ".", and not ".", ".." or "..…".
 *
 * @param owner the construct path named in the error
 * @param what where the key was given, e.g. "authHeader.key"
 */
export function assertSecretKey(owner: string, what: string, key: string): void {
  const valid = typeof key === 'string' && DATA_KEY.test(key) && key.length <= DATA_KEY_MAX && key !== '.' && !key.startsWith('..');
  if (!valid) {
    throw new Error(
      `${owner}: ${what} ${JSON.stringify(key)} is not a valid Secret key ` +
      `(1 to ${DATA_KEY_MAX} letters, digits, "-", "_" or ".", neither "." nor starting with "..")`,
    );
  }
}

/**
 * Throws on env var names a POSIX shell cannot read, on literal values under
 * names that carry secrets (those must come from `EnvValue.fromSecretValue`),
 * and on Secret or ConfigMap keys the API server rejects.
 *
 * @param owner the construct path named in the error
 */
export function assertSafeEnv(owner: string, env: { [name: string]: kplus.EnvValue }): void {
  for (const [name, value] of Object.entries(env)) {
    const { valid, secretName } = envNameKind(name);
    if (!valid) {
      throw new Error(`${owner}: environment variable name ${JSON.stringify(name)} is not a valid identifier ([A-Za-z_][A-Za-z0-9_]*)`);
    }
    if (value.value !== undefined && value.value !== '' && secretName) {
      throw new Error(
        `${owner}: environment variable ${name} has a literal value; secrets must come from a Secret ` +
        '(EnvValue.fromSecretValue), never a literal in the manifest',
      );
    }
    const secretRef = value.valueFrom?.secretKeyRef;
    if (secretRef) assertSecretKey(owner, `environment variable ${name}: key`, secretRef.key);
    const configMapRef = value.valueFrom?.configMapKeyRef;
    if (configMapRef) assertSecretKey(owner, `environment variable ${name}: ConfigMap key`, configMapRef.key);
  }
}

/** What the name rules say about an env var name: every step of every workload repeats the same few names. */
const envNameKind = memoized((name: string) => ({ valid: ENV_NAME.test(name), secretName: looksLikeSecretName(name) }));

/**
 * Names a shell script must not take from its environment: POSIX sh and
 * busybox ash set, reset or interpret them (ash resets IFS, PPID, PWD, OPTIND
 * and RANDOM at start; PATH decides which tools run), and lib.sh and
 * fetch-lib.sh set or read the rest in every script.
 */
const SCRIPT_RESERVED = new Set([
  // the shell's own
  'ENV', 'HOME', 'IFS', 'LINENO', 'OLDPWD', 'OPTARG', 'OPTIND', 'PATH', 'PPID',
  'PS1', 'PS2', 'PS3', 'PS4', 'PWD', 'RANDOM', 'SECONDS', 'SHELL',
  // lib.sh and fetch-lib.sh
  'STEP', 'RUN_ID', 'DEADLINE_MS', 'ATTEMPT_S', 'RETRY_MIN_MS', 'RETRY_MAX_MS', 'RETRY_FACTOR_PCT', 'RETRY_REPORT', 'STALE_MIN',
]);
const SCRIPT_VARIABLE = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Throws unless each name can carry a user's value through an init script:
 * upper case (the scripts' own variables are lower case), not a name the shell
 * or the library owns, and not one of the script's own.
 *
 * @param owner the construct path named in the error
 * @param what what the names are, e.g. "template variable"
 * @param scriptNames the script's configuration: names, and prefixes ending in "_" (e.g. ["ENVFILE_", "FETCH_DEST"])
 */
export function assertScriptVariables(owner: string, what: string, names: string[], scriptNames: string[]): void {
  const owned = (name: string) => scriptNames.some(n => n.endsWith('_') ? name.startsWith(n) : name === n);
  for (const name of names) {
    if (!SCRIPT_VARIABLE.test(name)) throw new Error(`${owner}: ${what} ${JSON.stringify(name)} must be upper case letters, digits and "_"`);
    if (SCRIPT_RESERVED.has(name) || owned(name)) {
      throw new Error(`${owner}: ${what} ${name} is reserved; rename it (the shell or the step's script sets or reads it)`);
    }
  }
}


/**
 * Adds a synth-time check to `construct`: each `secretKeyRef` of `env()` that
 * names a Secret defined in the construct's chart with known data must name
 * one of its keys (unless `optional`). A Secret defined without any data is
 * taken as filled elsewhere and not checked.
 */
export function addSecretKeyValidation(construct: Construct, env: () => { [name: string]: kplus.EnvValue }): void {
  const chart = nearestChart(construct);
  if (chart && !chartsForgettingSecrets.has(chart)) {
    // The chart is validated before the constructs in it (cdk8s validates in pre-order): each
    // validation pass starts by forgetting the Secrets the last one found, so the steps of the
    // chart share one scan of it per pass instead of one each (O(steps x constructs)).
    chartsForgettingSecrets.add(chart);
    chart.node.addValidation({ validate: () => { chartSecrets.delete(chart); return []; } });
  }
  construct.node.addValidation({ validate: () => missingSecretKeys(construct, env()) });
}

/** A Secret of a chart and the keys of its data. */
interface KnownSecret {
  readonly object: ApiObject;
  readonly keys: string[];
}

/** The Secrets of a chart found in the current validation pass. */
const chartSecrets = new WeakMap<Chart, KnownSecret[]>();
/** The charts whose first validation forgets `chartSecrets`. */
const chartsForgettingSecrets = new WeakSet<Chart>();

/** `Chart.of(construct)`, or undefined where that throws (no chart above it). */
function nearestChart(construct: Construct): Chart | undefined {
  for (let c: Construct | undefined = construct; c; c = c.node.scope as Construct | undefined) {
    if (Chart.isChart(c)) return c;
  }
  return undefined;
}

/** The ApiObjects of kind Secret in `chart` and their data keys, scanned once per validation pass. */
function secretsOf(chart: Chart): KnownSecret[] {
  let secrets = chartsForgettingSecrets.has(chart) ? chartSecrets.get(chart) : undefined;
  if (!secrets) {
    secrets = chart.node.findAll()
      .filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.apiVersion === 'v1' && c.kind === 'Secret')
      .map(s => ({ object: s, keys: dataKeys(s) }));
    if (chartsForgettingSecrets.has(chart)) {
      chartSecrets.set(chart, secrets);
      // Kept for this synthesis only (it runs synchronously): a later check, even one that does
      // not go through the chart's validation first, scans the chart as it is then.
      queueMicrotask(() => chartSecrets.delete(chart));
    }
  }
  return secrets;
}

function missingSecretKeys(construct: Construct, env: { [name: string]: kplus.EnvValue }): string[] {
  // Most steps take no Secret: find that out without building anything.
  let refs: Array<{ name: string; ref: kplus.k8s.SecretKeySelector }> | undefined;
  for (const name of Object.keys(env)) {
    const ref = env[name].valueFrom?.secretKeyRef;
    if (ref && !ref.optional) (refs ??= []).push({ name, ref });
  }
  if (!refs) return [];
  const secrets = secretsOf(Chart.of(construct));
  const errors: string[] = [];
  for (const { name, ref } of refs) {
    const same = secrets.filter(s => s.object.name === ref.name);
    if (same.length === 0 || same.some(s => s.keys.length === 0 || s.keys.includes(ref.key))) continue;
    const secret = same[0];
    // A cdk8s-plus Secret holds its ApiObject as the child "Resource": name the Secret.
    const path = secret.object.node.id === 'Resource' && secret.object.node.scope ? secret.object.node.scope.node.path : secret.object.node.path;
    errors.push(
      `environment variable ${name} takes key ${JSON.stringify(ref.key)} of Secret "${ref.name}" (${path}), ` +
      `which has only ${secret.keys.map(k => JSON.stringify(k)).join(', ')}`,
    );
  }
  return errors;
}

function dataKeys(secret: ApiObject): string[] {
  const json = secret.toJson();
  return [...Object.keys(json.data ?? {}), ...Object.keys(json.stringData ?? {})];
}
