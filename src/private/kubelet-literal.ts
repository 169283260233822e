import * as kplus from 'cdk8s-plus-27';
import { memoized } from './step-values';

/**
 * `text` written so the kubelet passes it on unchanged. Before a container
 * starts, the kubelet expands `$(NAME)` in command, args and env values to the
 * value of the container's env var NAME, and turns `$$` into `$`. Doubling every
 * `$` makes the process receive exactly `text`: the script that was tested, and
 * user values that cannot splice another variable into it.
 */
export function kubeletLiteral(text: string): string {
  // Most values have no `$`: then the text is its own literal, without a copy.
  return text.includes('$') ? text.replace(/\$/g, '$$$$') : text;
}

/** An env var whose value the process receives exactly as given (see `kubeletLiteral`). */
export function literalEnv(value: string): kplus.EnvValue {
  return typeof value === 'string' ? literalEnvs(value) : kplus.EnvValue.fromValue(kubeletLiteral(value));
}

// An EnvValue is immutable: the steps of every workload share one per value ("300", a mount path, ...).
const literalEnvs = memoized((value: string) => kplus.EnvValue.fromValue(kubeletLiteral(value)));

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
