/**
 * Each line's run tests what it says it tests: the library and cdk8s-plus the
 * suite loads are the line's, and the line's package is built for it.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { DESIGN_LINE, lineDir, packageName, PLUS_LINES } from '../../projenrc/lines';
import { CDK8S_PLUS_LINE } from '../../src/private/identity';
import { PLUS_LINE } from '../util/line';

const ROOT = path.join(__dirname, '..', '..');

test('CDK8S_PLUS_LINE names a supported line', () => {
  expect(PLUS_LINES.map(l => l.line)).toContain(PLUS_LINE);
});

test('the library under test is built for the line under test', () => {
  expect(CDK8S_PLUS_LINE).toBe(`cdk8s-plus-${PLUS_LINE}`);
});

test('the cdk8s-plus the tests use is the line\'s, at the version the line is built against', () => {
  const rtti = (kplus.Deployment as any)[Symbol.for('jsii.rtti')];
  expect(rtti.fqn).toBe(`cdk8s-plus-${PLUS_LINE}.Deployment`);
  expect(rtti.version).toBe(PLUS_LINES.find(l => l.line === PLUS_LINE)!.plusVersion);
});

test('the line\'s package is named for it and depends on its cdk8s-plus only', () => {
  const dir = PLUS_LINE === DESIGN_LINE ? ROOT : path.join(ROOT, lineDir(PLUS_LINE));
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  expect(pkg.name).toBe(packageName(PLUS_LINE));
  expect(Object.keys(pkg.peerDependencies).filter(d => d.startsWith('cdk8s-plus-'))).toEqual([`cdk8s-plus-${PLUS_LINE}`]);
  const assembly = JSON.parse(fs.readFileSync(path.join(dir, '.jsii'), 'utf8'));
  expect(Object.keys(assembly.dependencies).filter(d => d.startsWith('cdk8s-plus-'))).toEqual([`cdk8s-plus-${PLUS_LINE}`]);
});
