#!/usr/bin/env node
/**
 * `cdk8s-init-policy FILE...`: checks the init containers in synthesized
 * manifests (e.g. dist/*.k8s.yaml) and exits 1 when any finding is not waived.
 */
import { Yaml } from 'cdk8s';
import { InitContainerPolicy } from './init-container-policy';

/** Runs the check on `files`; returns the exit code and prints the report. */
export function main(files: string[], print: (line: string) => void = console.log): number {
  if (files.length === 0) {
    print('usage: cdk8s-init-policy FILE.k8s.yaml...');
    return 2;
  }
  const manifests = files.flatMap(f => Yaml.load(f).filter((d: unknown) => d));
  const findings = InitContainerPolicy.checkManifests(manifests);
  const failing = findings.filter(f => !f.waived);
  if (findings.length) print(InitContainerPolicy.format(findings));
  print(`cdk8s-init-policy: ${manifests.length} object(s), ${failing.length} finding(s), ${findings.length - failing.length} waived`);
  return failing.length ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
