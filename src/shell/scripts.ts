import * as fs from 'fs';
import * as path from 'path';
import { kubeletLiteral } from '../private/kubelet-literal';

/**
 * The init scripts this library generates live as plain POSIX sh files in
 * `assets/shell/`, so they are read, linted and executed in tests as what they
 * are. They take all configuration from environment variables: user input is
 * never spliced into script text, so it cannot be executed by the shell.
 */
const SHELL_DIR = path.join(__dirname, '..', '..', 'assets', 'shell');

const cache = new Map<string, string>();

/**
 * The text of `assets/shell/<name>`, without comment-only and blank lines
 * (they only cost manifest bytes; the file keeps them for readers).
 */
export function shellScript(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(SHELL_DIR, name), 'utf8')
      .split('\n')
      .filter(line => !/^\s*(#.*)?$/.test(line))
      .join('\n') + '\n';
    cache.set(name, text);
  }
  return text;
}

/**
 * The container command that runs library scripts with the image's `sh`:
 * `names` are joined in order, helpers first (e.g. "lib.sh", then the step's script).
 * Every `$` is doubled, so after the kubelet's `$(VAR)`/`$$` expansion the shell
 * runs exactly the script in `assets/shell/`.
 */
export function shellCommand(...names: string[]): string[] {
  // One string per combination, shared by every step that runs it: thousands of
  // steps then cost one copy of the script, not one each.
  const key = names.join('\0');
  let script = commands.get(key);
  if (script === undefined) {
    script = kubeletLiteral(names.map(shellScript).join(''));
    commands.set(key, script);
  }
  return ['sh', '-c', script];
}

const commands = new Map<string, string>();
