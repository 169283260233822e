#!/usr/bin/env node
/**
 * `cdk8s-init-policy [--whole-pod] FILE...`: checks the init containers, native
 * sidecars included (with `--whole-pod`, every container and the pod), in
 * synthesized manifests, e.g. dist/*.k8s.yaml. A sidecar's findings say
 * "sidecar container". Exit codes: 0 clean, 1 findings not waived, 2 usage error.
 */
import * as fs from 'fs';
import { Yaml } from 'cdk8s';
import { InitContainerPolicy } from './init-container-policy';

export const USAGE = [
  'usage: cdk8s-init-policy [--whole-pod] FILE.k8s.yaml...',
  '',
  'Checks the init containers (native sidecars included) in Kubernetes manifests',
  'against the Pod Security Standards and cdk8s-init\'s rules (see RULES.md);',
  'exits 1 on findings that are not waived, 2 on a usage error.',
  '',
  '  --whole-pod  also check app containers and the pod as a namespace labelled',
  '               pod-security.kubernetes.io/enforce=restricted would',
  '  -h, --help   show this help',
].join('\n');

/**
 * Runs the check on the command line `args`; prints the report to `out` and
 * errors to `err`, and returns the exit code.
 */
export function main(args: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): number {
  const usageError = (message: string) => {
    err(`cdk8s-init-policy: ${message}`);
    err(USAGE);
    return 2;
  };
  const files: string[] = [];
  let wholePod = false;
  let options = true;
  for (const arg of args) {
    if (options && (arg === '-h' || arg === '--help')) {
      // Usage on stdout, but no check ran: a CI step that only asked for help must not pass.
      out(USAGE);
      return 2;
    } else if (options && arg === '--whole-pod') {
      wholePod = true;
    } else if (options && arg === '--') {
      options = false;
    } else if (options && arg.startsWith('-') && arg !== '-') {
      return usageError(`unknown option ${arg}`);
    } else {
      files.push(arg);
    }
  }
  if (files.length === 0) return usageError('no manifest files given');
  const manifests: any[] = [];
  for (const file of files) {
    if (!fs.existsSync(file)) return usageError(`${file}: no such file`);
    if (!fs.statSync(file).isFile()) return usageError(`${file}: not a file`);
    let docs: any[];
    try {
      docs = Yaml.load(file).filter((d: unknown) => d);
    } catch (e) {
      return usageError(`${file}: cannot read it as YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    // Yaml.load skips what it cannot parse, so a broken file shows as documents without a kind.
    const bad = docs.findIndex(d => typeof d !== 'object' || Array.isArray(d) || typeof d.kind !== 'string');
    if (bad >= 0) return usageError(`${file}: document ${bad + 1} is not a Kubernetes object (it has no kind)`);
    manifests.push(...docs);
  }
  const findings = InitContainerPolicy.checkManifests(manifests, { wholePod });
  const failing = findings.filter(f => !f.waived);
  if (findings.length) out(InitContainerPolicy.format(findings));
  out(`cdk8s-init-policy: ${manifests.length} object(s), ${failing.length} finding(s), ${findings.length - failing.length} waived${wholePod ? ' (whole pod)' : ''}`);
  return failing.length ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
