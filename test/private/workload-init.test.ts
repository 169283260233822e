/**
 * The per-workload model: decisions are kept as data, conflicts fail naming both
 * sides, and the manifest is rendered from the final model at synthesis.
 */
import { ApiObject, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { InitSequence, InitStep, SharedVolume, VolumePermissionsInit, VolumePermissionStrategy } from '../../src';
import { newChart } from '../util/fixtures';
import { podSpecOf, synthValid } from '../util/manifest';

function step(scope: any, id: string) {
  return new InitStep(scope, id, { image: 'busybox:1.36.1', command: ['true'] });
}

describe('fsGroup is one per pod', () => {
  test('two VolumePermissionsInit steps needing different groups: the second fails naming the first', () => {
    const chart = newChart();
    const d = new kplus.Deployment(chart, 'db', { containers: [{ name: 'db', image: 'db:1.0' }] });
    const a = new SharedVolume(chart, 'a');
    const b = new SharedVolume(chart, 'b');
    InitSequence.of(d).add(new VolumePermissionsInit(chart, 'perm-a', { volume: a, group: 2000 }));
    expect(() => InitSequence.of(d).add(new VolumePermissionsInit(chart, 'perm-b', { volume: b, group: 3000 })))
      .toThrow('VolumePermissionsInit test/perm-b: needs fsGroup 3000, but VolumePermissionsInit test/perm-a in workload test/db needs fsGroup 2000; a pod has one fsGroup');
  });

  test('two steps needing the same group share it', () => {
    const chart = newChart();
    const d = new kplus.Deployment(chart, 'db', { containers: [{ name: 'db', image: 'db:1.0' }] });
    InitSequence.of(d).add(
      new VolumePermissionsInit(chart, 'perm-a', { volume: new SharedVolume(chart, 'a'), group: 2000 }),
      new VolumePermissionsInit(chart, 'perm-b', { volume: new SharedVolume(chart, 'b'), group: 2000 }),
    );
    expect(podSpecOf(synthValid(chart)[0]).securityContext).toMatchObject({ fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' });
  });

  test('a step and a user-set fsGroup that differ: an error naming both', () => {
    const chart = newChart();
    const d = new kplus.Deployment(chart, 'db', { securityContext: { fsGroup: 1000 }, containers: [{ name: 'db', image: 'db:1.0' }] });
    expect(() => InitSequence.of(d).add(new VolumePermissionsInit(chart, 'perm', { volume: new SharedVolume(chart, 'a'), group: 2000 })))
      .toThrow('VolumePermissionsInit test/perm: needs fsGroup 2000, but workload test/db sets fsGroup 1000; a pod has one fsGroup');
  });

  test('a user-set fsGroup that matches is kept as the user set it', () => {
    const chart = newChart();
    const d = new kplus.Deployment(chart, 'db', {
      securityContext: { fsGroup: 2000, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ALWAYS },
      containers: [{ name: 'db', image: 'db:1.0' }],
    });
    InitSequence.of(d).add(new VolumePermissionsInit(chart, 'perm', { volume: new SharedVolume(chart, 'a'), group: 2000 }));
    expect(podSpecOf(synthValid(chart)[0]).securityContext).toMatchObject({ fsGroup: 2000, fsGroupChangePolicy: 'Always' });
  });

  test('an fsGroup set by a JSON patch of the user that differs: an error at synthesis, not silently replaced', () => {
    const chart = newChart();
    const d = new kplus.Deployment(chart, 'db', { containers: [{ name: 'db', image: 'db:1.0' }] });
    ApiObject.of(d).addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/fsGroup', 1000));
    InitSequence.of(d).add(new VolumePermissionsInit(chart, 'perm', { volume: new SharedVolume(chart, 'a'), group: 2000 }));
    expect(() => Testing.synth(chart)).toThrow('workload test/db: its manifest sets fsGroup 1000, but VolumePermissionsInit test/perm needs fsGroup 2000; a pod has one fsGroup');
  });

  test('user with the FS_GROUP strategy is an error, not silently ignored', () => {
    expect(() => new VolumePermissionsInit(newChart(), 'perm', {
      volume: new SharedVolume(newChart(), 'a'), user: 1000, group: 2000, strategy: VolumePermissionStrategy.FS_GROUP,
    })).toThrow('VolumePermissionsInit test/perm: user 1000 needs a chown, which the FS_GROUP strategy does not do; use CHOWN (or AUTO), or leave user out');
  });
});

describe('rendering', () => {
  test('an init container someone else inserts before the steps is not hardened in their place', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(step(chart, 'first'), step(chart, 'second'));
    // Another tool's patch puts its own init container at index 0.
    ApiObject.of(pod).addJsonPatch(JsonPatch.add('/spec/initContainers/0', { name: 'injected', image: 'injector:1.0' }));
    const spec = podSpecOf(Testing.synth(chart)[0]);
    expect(spec.initContainers.map((c: any) => [c.name, c.terminationMessagePolicy, c.securityContext?.capabilities]))
      .toEqual([
        ['injected', undefined, undefined],
        ['first', 'FallbackToLogsOnError', { drop: ['ALL'] }],
        ['second', 'FallbackToLogsOnError', { drop: ['ALL'] }],
      ]);
  });

  test('a step added after the first synthesis is rendered too: output follows the model, not patches made earlier', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(step(chart, 'first'));
    const before = podSpecOf(Testing.synth(chart)[0]);
    InitSequence.of(pod).add(step(chart, 'second'));
    const after = podSpecOf(Testing.synth(chart)[0]);
    expect(before.initContainers.map((c: any) => c.name)).toEqual(['first']);
    expect(after.initContainers.map((c: any) => [c.name, c.securityContext.seccompProfile])).toEqual([
      ['first', { type: 'RuntimeDefault' }], ['second', { type: 'RuntimeDefault' }],
    ]);
  });

  test('the model is a construct under its workload, so it lives on the construct tree', () => {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(step(chart, 'first'));
    expect(pod.node.tryFindChild('cdk8s-init')).toBeDefined();
  });
});

test('two step ids that collide only after the 63-character cut: the error says so', () => {
  const chart = newChart();
  const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
  const long = 'wait-for-the-payments-service-and-the-orders-service-in-region-eu-west';
  InitSequence.of(pod).add(step(chart, `${long}-1`));
  expect(() => InitSequence.of(pod).add(step(chart, `${long}-2`)))
    .toThrow(/container name "wait-for-the-payments-service-and-the-orders-service-in-region" is already used in workload test\/pod \(".*-2" and ".*-1" differ, but are equal after truncation to 63 characters/);
});
