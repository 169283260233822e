import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { InitSequence, SharedVolume, VolumePermissionsInit, VolumePermissionsInitProps, VolumePermissionStrategy } from '../../src';
import { emptyDir, forEachBusybox, runContainer } from '../util/container';
import { newChart } from '../util/fixtures';
import { podSpecOf, synthValid } from '../util/manifest';

const TARGET = '/var/run/cdk8s-init/volume';

function build(props: Omit<VolumePermissionsInitProps, 'volume'>, workloadProps: any = {}) {
  const chart = newChart();
  const data = new SharedVolume(chart, 'data');
  const sts = new kplus.Deployment(chart, 'db', { containers: [{ name: 'db', image: 'db:1.0' }], ...workloadProps });
  const step = new VolumePermissionsInit(chart, 'fix-permissions', { volume: data, ...props });
  InitSequence.of(sts).add(step);
  data.mount(sts.containers[0], '/data', { readOnly: false });
  return { chart, step };
}

/** The step's container and its pod spec, as synthesized. */
function stepContainer(props: Omit<VolumePermissionsInitProps, 'volume'>): { container: any; pod: any } {
  const { chart, step } = build(props);
  const pod = podSpecOf(synthValid(chart, { restricted: step.strategy !== VolumePermissionStrategy.CHOWN })[0]);
  return { container: pod.initContainers[0], pod };
}

/** The same container with other added capabilities: the experiment behind the least set. */
function withCapabilities(container: any, add: string[]): any {
  return { ...container, securityContext: { ...container.securityContext, capabilities: { drop: ['ALL'], add } } };
}

/** uid:gid and mode of every path under dir (symlinks not followed), relative to it. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const st = fs.lstatSync(path.join(dir, rel));
    out[rel || '.'] = `${st.uid}:${st.gid} ${st.isSymbolicLink() ? 'link' : (st.mode % 0o10000).toString(8)}`;
    if (st.isDirectory()) for (const e of fs.readdirSync(path.join(dir, rel)).sort()) walk(path.join(rel, e));
  };
  walk('');
  return out;
}

/** A volume already holding PostgreSQL-like data: 0700 directories and 0600 files owned by `uid`. */
function postgresData(uid: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgdata-'));
  fs.mkdirSync(path.join(dir, 'base', '1'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'global'));
  fs.writeFileSync(path.join(dir, 'PG_VERSION'), '16\n');
  fs.writeFileSync(path.join(dir, 'base', '1', '1259'), 'x');
  fs.writeFileSync(path.join(dir, 'global', 'pg_control'), 'x');
  // A tablespace link: chown -R must change the link, not follow it out of the volume.
  fs.symlinkSync('/nonexistent/tablespace', path.join(dir, 'pg_tblspc'));
  for (const p of ['base/1/1259', 'global/pg_control', 'PG_VERSION']) fs.chmodSync(path.join(dir, p), 0o600);
  for (const p of ['base/1', 'base', 'global', '.']) fs.chmodSync(path.join(dir, p), 0o700);
  for (const p of ['base/1/1259', 'global/pg_control', 'PG_VERSION', 'base/1', 'base', 'global', 'pg_tblspc', '.']) {
    fs.lchownSync(path.join(dir, p), uid, uid);
  }
  return dir;
}

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

  test('AUTO with an owner uid picks chown: root with only CHOWN, FOWNER and DAC_READ_SEARCH, the opt-out recorded on the pod', () => {
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
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER', 'DAC_READ_SEARCH'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const reason = 'chown -R 999:999 of volume data needs root with CHOWN, FOWNER, DAC_READ_SEARCH';
    expect(template.metadata.annotations).toEqual({
      'fix-permissions.waivers.cdk8s-init.io/run-as-non-root': reason,
      'fix-permissions.waivers.cdk8s-init.io/capabilities.CHOWN': reason,
      'fix-permissions.waivers.cdk8s-init.io/capabilities.FOWNER': reason,
      'fix-permissions.waivers.cdk8s-init.io/capabilities.DAC_READ_SEARCH': reason,
    });
  });

  test('a setgid mode adds FSETID, and only then', () => {
    const caps = (mode: number) => stepContainer({ user: 999, group: 999, mode }).container.securityContext.capabilities.add;
    expect(caps(0o2770)).toEqual(['CHOWN', 'FOWNER', 'DAC_READ_SEARCH', 'FSETID']);
    expect(caps(0o770)).toEqual(['CHOWN', 'FOWNER', 'DAC_READ_SEARCH']);
  });

  test('a conflicting fsGroup on the workload is an error', () => {
    expect(() => build({ group: 2000 }, { securityContext: { fsGroup: 3000 } }))
      .toThrow('VolumePermissionsInit test/fix-permissions: needs fsGroup 2000, but workload test/db sets fsGroup 3000; a pod has one fsGroup');
  });

  test('bad ids and modes', () => {
    expect(() => build({ group: -1 })).toThrow('VolumePermissionsInit test/fix-permissions: group -1 is not a valid id');
    expect(() => build({ group: 1, user: 1.5 })).toThrow('user 1.5 is not a valid id');
    expect(() => build({ group: 1, mode: 0o17777 })).toThrow(/mode 8191 is not a file mode/);
  });

  forEachBusybox(busybox => {
    describe('CHOWN, run as its container (uid 0 with only the capabilities it adds)', () => {
      test('first run, then a re-run on the 0700 volume it left: same owner and modes everywhere', async () => {
        const { container } = stepContainer({ user: 999, group: 999, mode: 0o700 });
        const dir = emptyDir();
        fs.mkdirSync(path.join(dir, 'sub'), { mode: 0o755 });
        fs.writeFileSync(path.join(dir, 'sub', 'file'), 'x', { mode: 0o640 });
        const expected = { '.': '999:999 700', 'sub': '999:999 755', 'sub/file': '999:999 640' };

        const first = await runContainer(container, { busybox, volumes: { data: dir } });
        expect(first.lastLine).toBe(`volume-permissions: ${TARGET} is owned by 999:999, mode 0700`);
        expect(first.code).toBe(0);
        expect(tree(dir)).toEqual(expected);

        // A pod restart: root with only CHOWN and FOWNER could not list this 0700 root.
        const again = await runContainer(container, { busybox, volumes: { data: dir } });
        expect(again.lastLine).toBe(`volume-permissions: ${TARGET} is owned by 999:999, mode 0700`);
        expect(again.code).toBe(0);
        expect(tree(dir)).toEqual(expected);
      });

      test('existing PostgreSQL data owned by another uid: every file and directory re-owned, nested modes kept, links not followed', async () => {
        const { container } = stepContainer({ user: 70, group: 70, mode: 0o700 });
        const dir = postgresData(999);
        const r = await runContainer(container, { busybox, volumes: { data: dir } });
        expect(r.lastLine).toBe(`volume-permissions: ${TARGET} is owned by 70:70, mode 0700`);
        expect(r.code).toBe(0);
        expect(tree(dir)).toEqual({
          '.': '70:70 700',
          'PG_VERSION': '70:70 600',
          'base': '70:70 700',
          'base/1': '70:70 700',
          'base/1/1259': '70:70 600',
          'global': '70:70 700',
          'global/pg_control': '70:70 600',
          'pg_tblspc': '70:70 link',
        });
      });

      // The experiment that chose the capabilities: without any one of them, existing 0700 data
      // owned by another uid cannot be re-owned. CHOWN and FOWNER alone was the old set.
      test.each([
        ['DAC_READ_SEARCH', ['CHOWN', 'FOWNER'], `chown -R 70:70 ${TARGET} failed`],
        ['FOWNER', ['CHOWN', 'DAC_READ_SEARCH'], `chmod 0700 ${TARGET} failed`],
        ['CHOWN', ['FOWNER', 'DAC_READ_SEARCH'], `chown -R 70:70 ${TARGET} failed`],
      ])('without %s it fails, with its own last line', async (_missing, caps, message) => {
        const { container, pod } = stepContainer({ user: 70, group: 70, mode: 0o700 });
        const dir = postgresData(999);
        const r = await runContainer(withCapabilities(container, caps), { busybox, pod, volumes: { data: dir } });
        expect(r.code).toBe(1);
        expect(r.lastLine).toBe(`volume-permissions: ${message}`);
      });

      test('a setgid mode is applied with FSETID; without it the step says so instead of reporting a mode it did not set', async () => {
        const { container, pod } = stepContainer({ user: 70, group: 70, mode: 0o2770 });
        const dir = postgresData(999);
        const r = await runContainer(container, { busybox, volumes: { data: dir } });
        expect(r.lastLine).toBe(`volume-permissions: ${TARGET} is owned by 70:70, mode 2770`);
        expect(tree(dir)['.']).toBe('70:70 2770');

        const without = await runContainer(withCapabilities(container, ['CHOWN', 'FOWNER', 'DAC_READ_SEARCH']), { busybox, pod, volumes: { data: postgresData(999) } });
        expect(without.code).toBe(1);
        expect(without.lastLine).toBe(`volume-permissions: chmod 2770 ${TARGET} left mode 770`);
      });
    });

    describe('FS_GROUP check, run as its container (uid 65532, no capabilities, the pod fsGroup)', () => {
      test('passes on a volume the kubelet set up for fsGroup, and leaves nothing behind', async () => {
        const { container } = stepContainer({ group: 2000 });
        const dir = emptyDir(2000);
        const r = await runContainer(container, { busybox, volumes: { data: dir } });
        expect(r.lastLine).toBe(`volume-permissions: ${TARGET} is writable by group 2000 (fsGroup)`);
        expect(r.code).toBe(0);
        expect(fs.readdirSync(dir)).toEqual([]);
      });

      test('a writable volume that ignores fsGroup: new files get the step\'s own group', async () => {
        const { container } = stepContainer({ group: 2000 });
        const r = await runContainer(container, { busybox, volumes: { data: emptyDir() } });
        expect(r.code).toBe(1);
        expect(r.lastLine).toBe(
          `volume-permissions: new files in ${TARGET} get group 65532, not fsGroup 2000: the volume type ignores fsGroup; use VolumePermissionStrategy.CHOWN`);
      });

      test('a volume the step cannot write (root-owned 0755, as a hostPath): the step\'s own explanation is the last line', async () => {
        const { container } = stepContainer({ group: 2000 });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostpath-'));
        fs.chmodSync(dir, 0o755);
        const r = await runContainer(container, { busybox, volumes: { data: dir } });
        expect(r.code).toBe(1);
        expect(r.lastLine).toBe(
          `volume-permissions: ${TARGET} is not writable with fsGroup 2000: the volume type ignores fsGroup (e.g. hostPath, some NFS); use VolumePermissionStrategy.CHOWN`);
      });
    });
  });
});
