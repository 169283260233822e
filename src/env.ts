import * as kplus from 'cdk8s-plus-27';

// Names that carry credentials. A "_FILE" or "_PATH" suffix (a path to a mounted
// secret) does not match, because the name must end in one of these words.
const SECRET_NAME = /(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when an env var of this name with a literal value looks like a pasted secret. */
export function looksLikeSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Throws on env var names a POSIX shell cannot read, and on literal values
 * under names that carry secrets: those must come from `EnvValue.fromSecretValue`.
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
  }
}
