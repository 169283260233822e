import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { InitSequence, SharedVolume, VolumePermissionsInit, VolumePermissionsInitProps, VolumePermissionStrategy } from '../../src';
import { runContainer } from '../util/busybox';
import { newChart } from '../util/fixtures';
import { podSpecOf, synthValid } from '../util/manifest';

function build(props: Omit<VolumePermissionsInitProps, 'volume'>, workloadProps: any = {}) {
  const chart = newChart();
  const data = new SharedVolume(chart, 'data');
  const sts = new kplus.Deployment(chart, 'db', { containers: [{ name: 'db', image: 'db:1.0' }], ...workloadProps });
  const step = new VolumePermissionsInit(chart, 'fix-permissions', { volume: data, ...props });
  InitSequence.of(sts).add(step);
  data.mount(sts.containers[0], '/data', { readOnly: false });
  return { chart, step };
}

const isRoot = process.getuid?.() === 0;

describe('VolumePermissionsInit', () => {
  test('AUTO with only a group picks fsGroup: no root, pod fsGroup set, a restricted check step', () => {
    const { chart, step } = build({ group: 2000 });
    expect(step.strategy).toBe(VolumePermissionStrategy.FS_GROUP);
    const objects = synthValid(chart);
    const spec = podSpecOf(objects[0]);
    expect(spec.securityContext).toMatchObject({ fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' });
    expect(spec.initContainers[0].securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, capabilities: { drop: ['ALL'] } });
    expect(objects[0].spec.template.metadata.annotations).toBeUndefined();
  });

  test('AUTO with an owner uid picks chown: root with only CHOWN and FOWNER, the opt-out recorded on the pod', () => {
    const { chart, step } = build({ user: 999, group: 999 });
    expect(step.strategy).toBe(VolumePermissionStrategy.CHOWN);
    const objects = synthValid(chart, { restricted: false });
    const template = objects[0].spec.template;
    expect(template.spec.initContainers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(template.metadata.annotations).toEqual({
      'security.cdk8s-init.io/fix-permissions': 'chown -R 999:999 of volume data needs root with CHOWN and FOWNER',
    });
  });

  test('a conflicting fsGroup on the workload is an error', () => {
    expect(() => build({ group: 2000 }, { securityContext: { fsGroup: 3000 } }))
      .toThrow('VolumePermissionsInit test/fix-permissions: workload test/db already has fsGroup 3000, not 2000');
  });

  test('bad ids and modes', () => {
    expect(() => build({ group: -1 })).toThrow('VolumePermissionsInit test/fix-permissions: group -1 is not a valid id');
    expect(() => build({ group: 1, user: 1.5 })).toThrow('user 1.5 is not a valid id');
    expect(() => build({ group: 1, mode: 0o17777 })).toThrow(/mode 8191 is not a file mode/);
  });

  (isRoot ? test : test.skip)('chown runs for real: owner, group and mode change recursively', async () => {
    const { chart } = build({ user: 1234, group: 2345, mode: 0o750 });
    const container = podSpecOf(synthValid(chart, { restricted: false })[0]).initContainers[0];
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'vol-'));
    fs.mkdirSync(path.join(target, 'sub'));
    fs.writeFileSync(path.join(target, 'sub', 'file'), 'x');
    const r = await runContainer(container, { env: { TARGET: target } });
    expect(r.code).toBe(0);
    expect(r.output.trim()).toBe(`volume-permissions: ${target} is owned by 1234:2345, mode 0750`);
    for (const p of [target, path.join(target, 'sub'), path.join(target, 'sub', 'file')]) {
      expect([fs.statSync(p).uid, fs.statSync(p).gid]).toEqual([1234, 2345]);
    }
    expect(fs.statSync(target).mode % 0o10000).toBe(0o750);
  });

  test('the fsGroup check passes where new files get the group, and fails clearly where they do not', async () => {
    const gid = process.getgid!();
    const { chart } = build({ group: gid });
    const container = podSpecOf(synthValid(chart)[0]).initContainers[0];
    const ok = fs.mkdtempSync(path.join(os.tmpdir(), 'vol-'));
    const r = await runContainer(container, { env: { TARGET: ok } });
    expect(r.code).toBe(0);
    expect(fs.readdirSync(ok)).toEqual([]);

    const { chart: other } = build({ group: gid + 4242 });
    const wrong = await runContainer(podSpecOf(synthValid(other)[0]).initContainers[0], { env: { TARGET: ok } });
    expect(wrong.code).toBe(1);
    expect(wrong.output.trim()).toBe(
      `volume-permissions: new files in ${ok} get group ${gid}, not fsGroup ${gid + 4242}: the volume type ignores fsGroup; use VolumePermissionStrategy.CHOWN`);
  });
});
