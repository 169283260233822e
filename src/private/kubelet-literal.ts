import * as kplus from 'cdk8s-plus-27';

/**
 * `text` written so the kubelet passes it on unchanged. Before a container
 * starts, the kubelet expands `$(NAME)` in command, args and env values to the
 * value of the container's env var NAME, and turns `$$` into `$`. Doubling every
 * `$` makes the process receive exactly `text`: the script that was tested, and
 * user values that cannot splice another variable into it.
 */
export function kubeletLiteral(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

/** An env var whose value the process receives exactly as given (see `kubeletLiteral`). */
export function literalEnv(value: string): kplus.EnvValue {
  return kplus.EnvValue.fromValue(kubeletLiteral(value));
}

/**
 * `env` with every literal value written with `kubeletLiteral`, and values
 * from a Secret, a ConfigMap or the Downward API as they are: for variables a
 * step writes out as data, whose `$(NAME)` and `$$` must arrive unexpanded.
 */
export function literalValues(env: { [name: string]: kplus.EnvValue }): { [name: string]: kplus.EnvValue } {
  const out: { [name: string]: kplus.EnvValue } = {};
  for (const [name, value] of Object.entries(env)) {
    out[name] = value.valueFrom === undefined && typeof value.value === 'string' ? literalEnv(value.value) : value;
  }
  return out;
}
