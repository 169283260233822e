/**
 * VolumePermissionsInit and EnvFileInit on a real kubelet: the app container,
 * running as its own uid (1000), reads and writes what the steps prepared.
 * - FS_GROUP on an emptyDir: the kubelet applies the pod's fsGroup, the step
 *   stays restricted and only checks it took effect, and the app reaches the
 *   data and the env file through that supplementary group.
 * - CHOWN on a PersistentVolume (hostPath, bound to a claim): a real chown that
 *   works again when the pod is deleted and recreated over the same data,
 *   including data of other owners in directories only they can enter.
 * - FS_GROUP on that kind of volume cannot work (hostPath ignores fsGroup): the
 *   step fails the pod with the message pointing to CHOWN instead of letting the
 *   app start on a volume it cannot write.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  EnvFileInit, InitSequence, InitStep, SharedVolume, VolumePermissionsInit, VolumePermissionStrategy,
} from '../../src';
import {
  APP_IMAGE, APP_RESOURCES, cleanup, containerStatuses, exec, find, inNamespaces, podSpecOf, podWhere, synthChart, uniqueNamespace, withPods,
} from './util/chart-kit';
import { getJson, kubectl, logs, waitFor } from './util/kube';
import { applyManifests, workloadPod, workloadReady } from './util/workloads';

/** Values that break naive quoting; each must read back exactly in the app. */
const TRICKY = {
  GREETING: 'it\'s "quoted", `not run`, $HOME and ${HOME} and $(NOT_A_VARIABLE) stay',
  MULTILINE: 'line one\n  line two\n',
};
const SECRET_VALUE = 'p@ss\'w"rd $1 \\n';

/** A PersistentVolume over a host directory (the tests share the kubelet's mount namespace), pre-bound to `claim`. */
async function hostPathVolume(name: string, dir: string, claim: { namespace: string; name: string }): Promise<void> {
  await kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'e2e-hostpath',
      hostPath: { path: dir, type: 'Directory' },
      claimRef: { namespace: claim.namespace, name: claim.name },
    },
  }));
}

/** A claim of the PersistentVolume `pvName`, as a SharedVolume (pre-populated: it may hold data already). */
function claimVolume(chart: Chart, claimName: string, pvName: string): SharedVolume {
  const claim = new kplus.PersistentVolumeClaim(chart, `${claimName}-claim`, {
    metadata: { name: claimName },
    storage: Size.gibibytes(1),
    accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
    storageClassName: 'e2e-hostpath',
    volume: kplus.PersistentVolume.fromPersistentVolumeName(chart, `${claimName}-pv`, pvName),
  });
  return new SharedVolume(chart, claimName, { volume: kplus.Volume.fromPersistentVolumeClaim(chart, `${claimName}-volume`, claim, { name: claimName }) });
}

/** Every path under `dir` (itself included) with owner and mode, as the node sees them. */
function ownership(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    out.push(`${path.relative(dir, p) || '.'} ${st.uid}:${st.gid} ${(st.mode % 0o10000).toString(8)}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
  };
  walk(dir);
  return out;
}

/** A file owned by `uid:gid` with `mode`, in a directory of the same owner with mode 0700 (nobody else may enter). */
function foreignFile(root: string, rel: string, text: string, uid: number, mode: number): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, text, { mode });
  fs.chownSync(path.dirname(file), uid, uid);
  fs.chmodSync(path.dirname(file), 0o700);
  fs.chownSync(file, uid, uid);
  fs.chmodSync(file, mode);
}

describe('VolumePermissionsInit and EnvFileInit on a real kubelet', () => {
  test('FS_GROUP on an emptyDir and an env file: the app (uid 1000) reads and writes through the pod\'s fsGroup', async () => {
    const ns = uniqueNamespace('perm-fsgroup');
    const { text, objects } = synthChart(ns, (chart: Chart) => {
      const secret = new kplus.Secret(chart, 'api', { metadata: { name: 'api' }, stringData: { key: SECRET_VALUE } });
      const data = new SharedVolume(chart, 'data');
      const settings = new SharedVolume(chart, 'settings', { medium: kplus.EmptyDirMedium.MEMORY });
      const pod = new kplus.Pod(chart, 'app', {
        metadata: { name: 'app' },
        containers: [{ name: 'app', image: APP_IMAGE, portNumber: 8080, resources: APP_RESOURCES, securityContext: { user: 1000, group: 1000 } }],
      });
      const app = pod.containers[0];
      data.mount(app, '/var/lib/app', { readOnly: false });
      settings.mount(app, '/etc/app');
      InitSequence.of(pod).add(
        // Group 2000 is not the app's own gid: it reaches the volume only as a supplementary group.
        new VolumePermissionsInit(chart, 'group-data', { volume: data, group: 2000, strategy: VolumePermissionStrategy.FS_GROUP }),
        // Another uid (65532) leaves data for the app in a group-only directory.
        new InitStep(chart, 'seed-data', {
          image: 'busybox:1.36.1',
          command: ['sh', '-c', 'mkdir /data/state && echo seed >/data/state/seed.txt && chmod 0660 /data/state/seed.txt && chmod 2770 /data/state && ls -ln /data/state'],
          writes: [{ volume: data, path: '/data' }],
        }),
        new EnvFileInit(chart, 'write-env', {
          volume: settings,
          variables: {
            GREETING: kplus.EnvValue.fromValue(TRICKY.GREETING),
            MULTILINE: kplus.EnvValue.fromValue(TRICKY.MULTILINE),
            POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
            API_KEY: kplus.EnvValue.fromSecretValue({ secret, key: 'key' }),
          },
        }),
      );
    });
    const spec = podSpecOf(find(objects, 'Pod'));
    await inNamespaces([ns], async () => {
      // As synthesized: the pod's fsGroup is the step's group; the step itself runs restricted.
      expect(spec.securityContext).toMatchObject({ fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' });
      expect(spec.initContainers.find((c: any) => c.name === 'group-data').securityContext).toMatchObject({ runAsUser: 65532, runAsNonRoot: true });

      await applyManifests(text);
      await workloadReady(find(objects, 'Pod'), 120_000);
      expect(await logs(ns, 'app', 'group-data')).toContain('volume-permissions: /var/run/cdk8s-init/volume is writable by group 2000 (fsGroup)');
      expect(await logs(ns, 'app', 'write-env')).toContain('env-file: wrote 4 variable(s) to app.env');

      const appLog = await logs(ns, 'app', 'app');
      expect(appLog).toContain('app: uid=1000 gid=1000 groups=1000 2000');
      expect(appLog).toContain('app: /etc/app/app.env sets API_KEY GREETING MULTILINE POD_NAME');
      expect(appLog).toContain('app: read 2 files in 2 volumes, wrote to 1');

      // From inside the app: the values read back exactly, and the step's group-only data is writable.
      const read = async (name: string) => {
        const r = await exec(ns, 'app', 'app', ['sh', '-c', `. /etc/app/app.env && printf %s "$${name}"`]);
        expect(r.code).toBe(0);
        return r.stdout;
      };
      expect(await read('GREETING')).toBe(TRICKY.GREETING);
      expect(await read('MULTILINE')).toBe(TRICKY.MULTILINE);
      expect(await read('POD_NAME')).toBe('app');
      expect(await read('API_KEY')).toBe(SECRET_VALUE);
      const files = await exec(ns, 'app', 'app', ['sh', '-c',
        'stat -c "%n %u:%g %a" /etc/app/app.env /var/lib/app /var/lib/app/state /var/lib/app/state/seed.txt && ' +
        'echo from-app >>/var/lib/app/state/seed.txt && echo new >/var/lib/app/state/by-app.txt && cat /var/lib/app/state/seed.txt']);
      expect(files.code).toBe(0);
      expect(files.stdout.split('\n')).toEqual([
        '/etc/app/app.env 65532:2000 440',
        '/var/lib/app 0:2000 2777',
        '/var/lib/app/state 65532:2000 2770',
        '/var/lib/app/state/seed.txt 65532:2000 660',
        'seed',
        'from-app',
        '',
      ]);
    });
  });

  test('CHOWN on a hostPath PersistentVolume: the app owns its data, again after the pod is deleted and recreated', async () => {
    const ns = uniqueNamespace('perm-chown');
    const pvName = `${ns}-data`;
    const dir = fs.mkdtempSync('/tmp/e2e-pv-');
    // Data already there, of other owners, each in a 0700 directory only its owner may enter.
    foreignFile(dir, 'legacy/old.conf', 'legacy\n', 0, 0o600);
    foreignFile(dir, 'imported/dump.dat', 'dump\n', 65532, 0o600);
    const { text, objects } = synthChart(ns, (chart: Chart) => {
      const data = claimVolume(chart, 'data', pvName);
      const settings = new SharedVolume(chart, 'settings', { medium: kplus.EmptyDirMedium.MEMORY });
      const deployment = new kplus.Deployment(chart, 'db', {
        replicas: 1,
        containers: [{
          name: 'app',
          image: APP_IMAGE,
          portNumber: 8080,
          resources: APP_RESOURCES,
          securityContext: { user: 1000, group: 1000 },
          // Like a database: a private directory of its own, kept across restarts, then the stand-in's checks.
          command: ['sh', '-c', 'mkdir -p /var/lib/app/state && chmod 700 /var/lib/app/state && echo "$HOSTNAME" >>/var/lib/app/state/runs && chmod 600 /var/lib/app/state/runs && exec /stand-in-app'],
        }],
      });
      data.mount(deployment.containers[0], '/var/lib/app', { readOnly: false });
      settings.mount(deployment.containers[0], '/etc/app');
      InitSequence.of(deployment).add(
        new VolumePermissionsInit(chart, 'own-data', { volume: data, user: 1000, group: 1000, mode: 0o700, strategy: VolumePermissionStrategy.CHOWN }),
        new EnvFileInit(chart, 'write-env', { volume: settings, variables: { DATA_DIR: kplus.EnvValue.fromValue('/var/lib/app') } }),
      );
    });
    const deployment = find(objects, 'Deployment');
    try {
      await hostPathVolume(pvName, dir, { namespace: ns, name: 'data' });
      await applyManifests(text);
      await workloadReady(deployment, 120_000);
      const first = await workloadPod(deployment);
      expect(await logs(ns, first.metadata.name, 'own-data')).toContain('volume-permissions: /var/run/cdk8s-init/volume is owned by 1000:1000, mode 0700');
      expect(await logs(ns, first.metadata.name, 'app')).toContain('app: read 4 files in 2 volumes, wrote to 1');
      expect(ownership(dir)).toEqual([
        '. 1000:1000 700',
        'imported 1000:1000 700', 'imported/dump.dat 1000:1000 600',
        'legacy 1000:1000 700', 'legacy/old.conf 1000:1000 600',
        'state 1000:1000 700', 'state/runs 1000:1000 600',
      ]);

      // Between the runs, more data of another owner arrives (a restore, as root), then the pod is replaced.
      foreignFile(dir, 'restored/backup.dat', 'backup\n', 0, 0o600);
      await kubectl(['delete', 'pod', '-n', ns, first.metadata.name, '--wait=false']);
      const second = await waitFor('a new pod of the Deployment to be Ready', 120_000, async () => {
        const pod = await workloadPod(deployment);
        const ready = (pod.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
        return pod.metadata.name !== first.metadata.name && ready ? pod : undefined;
      });
      expect(await logs(ns, second.metadata.name, 'own-data')).toContain('volume-permissions: /var/run/cdk8s-init/volume is owned by 1000:1000, mode 0700');
      expect(await logs(ns, second.metadata.name, 'app')).toContain('app: read 5 files in 2 volumes, wrote to 1');
      // The same data, both runs' records in it, all of it the app's.
      expect(fs.readFileSync(path.join(dir, 'state', 'runs'), 'utf8')).toBe(`${first.metadata.name}\n${second.metadata.name}\n`);
      expect(ownership(dir).filter(line => !line.endsWith(' 1000:1000 700') && !line.endsWith(' 1000:1000 600'))).toEqual([]);
      const inside = await exec(ns, second.metadata.name, 'app', ['sh', '-c', 'cat /var/lib/app/restored/backup.dat /var/lib/app/legacy/old.conf && . /etc/app/app.env && echo "$DATA_DIR"']);
      expect(inside.stdout).toBe('backup\nlegacy\n/var/lib/app\n');
    } catch (error) {
      throw await withPods(error, ns);
    } finally {
      await cleanup(ns);
      await kubectl(['delete', 'pv', pvName, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('FS_GROUP on a hostPath PersistentVolume fails the pod, saying the volume ignores fsGroup and to use CHOWN', async () => {
    const ns = uniqueNamespace('perm-hostpath');
    // A fresh directory (root's, 0700: the step cannot write it), and one anyone may write (new files keep the writer's group).
    const closed = fs.mkdtempSync('/tmp/e2e-pv-');
    const open = fs.mkdtempSync('/tmp/e2e-pv-');
    fs.chmodSync(open, 0o777);
    const volumes = { closed: `${ns}-closed`, open: `${ns}-open` };
    const { text } = synthChart(ns, (chart: Chart) => {
      for (const which of ['closed', 'open'] as const) {
        const data = claimVolume(chart, which, volumes[which]);
        const pod = new kplus.Pod(chart, `pod-${which}`, {
          metadata: { name: which },
          restartPolicy: kplus.RestartPolicy.NEVER,
          containers: [{ name: 'app', image: APP_IMAGE, resources: APP_RESOURCES, securityContext: { user: 1000, group: 1000 } }],
        });
        data.mount(pod.containers[0], '/var/lib/app', { readOnly: false });
        InitSequence.of(pod).add(new VolumePermissionsInit(chart, `group-${which}`, { volume: data, group: 1000, strategy: VolumePermissionStrategy.FS_GROUP }));
      }
    });
    try {
      await hostPathVolume(volumes.closed, closed, { namespace: ns, name: 'closed' });
      await hostPathVolume(volumes.open, open, { namespace: ns, name: 'open' });
      await applyManifests(text);
      const expected = {
        closed: 'volume-permissions: /var/run/cdk8s-init/volume is not writable with fsGroup 1000: the volume type ignores fsGroup (e.g. hostPath, some NFS); use VolumePermissionStrategy.CHOWN',
        open: 'volume-permissions: new files in /var/run/cdk8s-init/volume get group 65532, not fsGroup 1000: the volume type ignores fsGroup; use VolumePermissionStrategy.CHOWN',
      };
      for (const which of ['closed', 'open'] as const) {
        const pod = await podWhere(ns, which, 'to fail', p => p.status.phase === 'Failed');
        const statuses = containerStatuses(pod);
        const step = statuses.get(`group-${which}`).state.terminated;
        expect({ which, exitCode: step.exitCode, message: step.message }).toEqual({ which, exitCode: 1, message: expected[which] });
        // The app never started on a volume it could not use.
        expect(statuses.get('app').state.running).toBeUndefined();
        expect(statuses.get('app').state.terminated).toBeUndefined();
      }
      // The kubelet left both directories as they were (hostPath has no ownership management).
      expect([fs.statSync(closed).gid, fs.statSync(open).gid]).toEqual([0, 0]);
      expect(fs.readdirSync(open)).toEqual([]);
      expect((await getJson(['pod', '-n', ns, 'open'])).spec.securityContext.fsGroup).toBe(1000);
    } catch (error) {
      throw await withPods(error, ns);
    } finally {
      await cleanup(ns);
      for (const pv of Object.values(volumes)) await kubectl(['delete', 'pv', pv, '--ignore-not-found', '--wait=false']).catch(() => undefined);
      for (const d of [closed, open]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
