/**
 * What the kubelet does to a container's `command`, `args` and `env` before the
 * process starts, ported from Kubernetes' third_party/forked/golang/expansion.
 */

/**
 * Expands `$(NAME)` to `lookup(NAME)` when it is defined (left as written when
 * not), turns `$$` into `$`, and keeps any other `$` as it is.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')');
      if (close > 0) {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      } else {
        out += '$(';
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A container's environment as the kubelet builds it: each value expanded against the variables before it. */
export function containerEnv(container: any, valuesFrom: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expand(e.value, name => env[name]);
    } else if (e.valueFrom !== undefined) {
      const value = valuesFrom[e.name];
      if (value === undefined) {
        throw new Error(`${container.name}: env ${e.name} comes from ${JSON.stringify(e.valueFrom)}; give its value in options.env`);
      }
      env[e.name] = value;
    } else {
      env[e.name] = '';
    }
  }
  return env;
}

/** The argv the container's process starts with: command then args, each expanded against the container's env. */
export function containerArgv(container: any, env: Record<string, string>): string[] {
  return [...container.command ?? [], ...container.args ?? []].map((arg: string) => expand(arg, name => env[name]));
}
