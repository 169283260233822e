import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';

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
    if (!ENV_NAME.test(name)) {
      throw new Error(`${owner}: environment variable name ${JSON.stringify(name)} is not a valid identifier ([A-Za-z_][A-Za-z0-9_]*)`);
    }
    if (value.value !== undefined && value.value !== '' && looksLikeSecretName(name)) {
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
  construct.node.addValidation({ validate: () => missingSecretKeys(construct, env()) });
}

function missingSecretKeys(construct: Construct, env: { [name: string]: kplus.EnvValue }): string[] {
  const refs = Object.entries(env)
    .map(([name, value]) => ({ name, ref: value.valueFrom?.secretKeyRef }))
    .filter(r => r.ref && !r.ref.optional);
  if (refs.length === 0) return [];
  const chart = Chart.of(construct);
  const secrets = chart.node.findAll()
    .filter((c): c is ApiObject => ApiObject.isApiObject(c) && c.apiVersion === 'v1' && c.kind === 'Secret')
    .map(s => ({ object: s, keys: dataKeys(s) }));
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
