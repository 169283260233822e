import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { EnvFileFormat, EnvFileInit, EnvFileInitProps, InitSequence, SharedVolume, VolumePermissionsInit } from '../../src';
import { BusyboxBuild, emptyDir, forEachBusybox, runContainer, runScript } from '../util/container';
import { newChart } from '../util/fixtures';
import { initContainersOf, podSpecOf, synthValid } from '../util/manifest';

const tricky = {
  QUOTES: 'it\'s "quoted"',
  // $(QUOTES) names a variable defined before it, and $$ is the kubelet's escape: both stay as they are.
  DOLLARS: 'cost $5 and $(id) and $(QUOTES) and $$ and `id` and ${HOME}',
  MULTILINE: '-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\n',
  BACKSLASH: 'C:\\path\\n not a newline',
  INJECT: 'x\'; touch /config/injected; echo \'\n$(touch /config/injected)',
  EMPTY: '',
};

/** Secret and Downward API values, as the kubelet resolves them. */
const resolved = { MULTILINE: tricky.MULTILINE, POD_IP: '10.1.2.3' };

/** A Deployment whose app container runs as 1000:1000 and reads `volume`. */
function appReading(chart: Chart, volume: SharedVolume): kplus.Deployment {
  const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 1000, group: 1000 } }] });
  volume.mount(d.containers[0], '/etc/app');
  return d;
}

function envFileContainer(props: Partial<EnvFileInitProps> = {}) {
  const chart = newChart();
  const secret = new kplus.Secret(chart, 'app-secrets', {});
  const out = new SharedVolume(chart, 'config');
  const d = appReading(chart, out);
  InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', {
    volume: out,
    variables: {
      QUOTES: kplus.EnvValue.fromValue(tricky.QUOTES),
      DOLLARS: kplus.EnvValue.fromValue(tricky.DOLLARS),
      MULTILINE: kplus.EnvValue.fromSecretValue({ secret, key: 'key' }),
      BACKSLASH: kplus.EnvValue.fromValue(tricky.BACKSLASH),
      INJECT: kplus.EnvValue.fromValue(tricky.INJECT),
      EMPTY: kplus.EnvValue.fromValue(tricky.EMPTY),
      POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
    },
    ...props,
  }));
  return initContainersOf(synthValid(chart))[0];
}

/** Runs the step on a fresh emptyDir; returns the volume's host directory. */
async function writeEnvFile(busybox: BusyboxBuild, format: EnvFileFormat): Promise<string> {
  const dir = emptyDir();
  const r = await runContainer(envFileContainer({ format }), { busybox, env: resolved, volumes: { config: dir } });
  expect(r.lastLine).toBe('env-file: wrote 7 variable(s) to app.env');
  expect(r.code).toBe(0);
  const st = fs.statSync(path.join(dir, 'app.env'));
  expect([st.mode % 0o10000, st.uid]).toEqual([0o440, 65532]);
  expect(fs.readdirSync(dir)).toEqual(['app.env']);
  return dir;
}

describe('EnvFileInit', () => {
  test('manifest: the secret and the Downward API field are references, not values', () => {
    const c = envFileContainer();
    expect(c.env).toContainEqual({ name: 'MULTILINE', valueFrom: { secretKeyRef: { name: expect.any(String), key: 'key' } } });
    expect(c.env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    expect(c.env).toContainEqual({ name: 'ENVFILE_VARS', value: 'QUOTES DOLLARS MULTILINE BACKSLASH INJECT EMPTY POD_IP' });
  });

  forEachBusybox(busybox => {
    test('the app container (uid 1000, group 1000) reads the file through the pod fsGroup the step sets; without it, it could not', async () => {
      const chart = newChart();
      const config = new SharedVolume(chart, 'config');
      const d = appReading(chart, config);
      InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables: { A: kplus.EnvValue.fromValue('x') } }));
      const objects = synthValid(chart);
      const step = initContainersOf(objects)[0];
      const spec = podSpecOf(objects.find(o => o.kind === 'Deployment'));
      const app = spec.containers[0];
      const reader = {
        name: 'app',
        command: ['sh', '-c', 'cat /etc/app/app.env'],
        volumeMounts: app.volumeMounts,
        securityContext: { ...app.securityContext, capabilities: { drop: ['ALL'] } },
      };
      expect(reader.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000 });

      const dir = emptyDir(spec.securityContext.fsGroup);
      expect((await runContainer(step, { busybox, volumes: { config: dir } })).code).toBe(0);
      const st = fs.statSync(path.join(dir, 'app.env'));
      expect([st.mode % 0o10000, st.uid, st.gid]).toEqual([0o440, 65532, 1000]);
      const read = await runContainer(reader, { busybox, pod: spec, volumes: { config: dir } });
      expect([read.code, read.output.trim()]).toEqual([0, "export A='x'"]);

      // The bug this prevents: the same pod without an fsGroup.
      const noFsGroup = { ...spec, securityContext: { ...spec.securityContext, fsGroup: undefined } };
      const bare = emptyDir();
      expect((await runContainer(step, { busybox, pod: noFsGroup, volumes: { config: bare } })).code).toBe(0);
      const denied = await runContainer(reader, { busybox, pod: noFsGroup, volumes: { config: bare } });
      expect(denied.code).not.toBe(0);
      expect(denied.output).toMatch(/Permission denied/);
    });

    test('SHELL: sourcing the file with sh gives back every value exactly, and runs none of it', async () => {
      const dir = await writeEnvFile(busybox, EnvFileFormat.SHELL);
      for (const [name, value] of Object.entries({ ...tricky, POD_IP: '10.1.2.3' })) {
        const r = await runScript(`. "$1" && printf '%s' "$${name}"`, ['/config/app.env'], { busybox, volumes: { config: dir } });
        expect(r.code).toBe(0);
        expect(r.output).toBe(value);
      }
      expect(fs.readdirSync(dir)).toEqual(['app.env']);
    });

    test('DOTENV: double-quoted with \\\\ \\" \\$ and \\n escapes', async () => {
      const dir = await writeEnvFile(busybox, EnvFileFormat.DOTENV);
      expect(fs.readFileSync(path.join(dir, 'app.env'), 'utf8')).toBe([
        'QUOTES="it\'s \\"quoted\\""',
        'DOLLARS="cost \\$5 and \\$(id) and \\$(QUOTES) and \\$\\$ and `id` and \\${HOME}"',
        'MULTILINE="-----BEGIN KEY-----\\nabc\\ndef\\n-----END KEY-----\\n"',
        'BACKSLASH="C:\\\\path\\\\n not a newline"',
        'INJECT="x\'; touch /config/injected; echo \'\\n\\$(touch /config/injected)"',
        'EMPTY=""',
        'POD_IP="10.1.2.3"',
        '',
      ].join('\n'));
    });

    test('a re-run replaces the file with the same content; another pod\'s temp file in the shared volume is left alone', async () => {
      const dir = await writeEnvFile(busybox, EnvFileFormat.SHELL);
      const first = fs.readFileSync(path.join(dir, 'app.env'), 'utf8');
      // Where every run is PID 1, a `$$` temp name is app.env.tmp.1 in every replica.
      fs.writeFileSync(path.join(dir, 'app.env.tmp.1'), 'another pod is writing this');
      fs.chmodSync(path.join(dir, 'app.env.tmp.1'), 0o666);
      const again = await runContainer(envFileContainer(), { busybox, env: resolved, volumes: { config: dir } });
      expect(again.lastLine).toBe('env-file: wrote 7 variable(s) to app.env');
      expect(fs.readFileSync(path.join(dir, 'app.env'), 'utf8')).toBe(first);
      expect(fs.readFileSync(path.join(dir, 'app.env.tmp.1'), 'utf8')).toBe('another pod is writing this');
      expect(fs.readdirSync(dir).sort()).toEqual(['app.env', 'app.env.tmp.1']);
    });

    test('why the shell\'s names are refused: ash resets them before the script reads them', async () => {
      // A hand-edited manifest, past the construct's validation.
      const c = envFileContainer({ variables: { OK: kplus.EnvValue.fromValue('kept') } });
      const owned = ['IFS', 'PPID', 'PWD', 'OPTIND', 'RANDOM'];
      const env = c.env.map((e: any) => e.name === 'ENVFILE_VARS' ? { ...e, value: ['OK', ...owned].join(' ') } : e);
      for (const name of owned) env.push({ name, value: 'given' });
      const dir = emptyDir();
      const r = await runContainer({ ...c, env }, { busybox, volumes: { config: dir } });
      expect(r.code).toBe(0);
      const lines = fs.readFileSync(path.join(dir, 'app.env'), 'utf8').split('\n');
      expect(lines[0]).toBe("export OK='kept'");
      for (const name of owned) {
        const line = lines.find(l => l.startsWith(`export ${name}=`));
        expect([name, line === undefined, line === `export ${name}='given'`]).toEqual([name, false, false]);
      }
    });

    test('a directory where the file goes: the step fails saying so, instead of moving the file into it', async () => {
      const dir = emptyDir();
      fs.mkdirSync(path.join(dir, 'app.env'));
      const r = await runContainer(envFileContainer(), { busybox, env: resolved, volumes: { config: dir } });
      expect(r.code).toBe(1);
      expect(r.lastLine).toBe('env-file: cannot install /var/run/cdk8s-init/out/app.env: /var/run/cdk8s-init/out/app.env is a directory');
      expect(fs.readdirSync(path.join(dir, 'app.env'))).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual(['app.env']);
    });

    test('a volume the step cannot write: the step\'s own explanation is the last line', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readonly-'));
      fs.chmodSync(dir, 0o755);
      const r = await runContainer(envFileContainer(), { busybox, env: resolved, volumes: { config: dir } });
      expect(r.code).toBe(1);
      expect(r.lastLine).toBe('env-file: cannot write /var/run/cdk8s-init/out/app.env');
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });

  test.each([
    [{ variables: {} }, 'give at least one variable'],
    [{ variables: { lower: kplus.EnvValue.fromValue('x') } }, 'variable name "lower" must be upper case'],
    [{ variables: { ENVFILE_PATH: kplus.EnvValue.fromValue('x') } }, 'variable name ENVFILE_PATH is reserved'],
    [{ variables: { RUN_ID: kplus.EnvValue.fromValue('x') } }, 'variable name RUN_ID is reserved'],
    [{ path: '../x' }, 'path "../x" must be a relative path'],
    [{ variables: { API_TOKEN: kplus.EnvValue.fromValue('abc') } }, 'environment variable API_TOKEN has a literal value'],
  ])('bad input %#', (props, message) => {
    expect(() => envFileContainer(props as any)).toThrow(message);
  });

  test.each([
    'IFS', 'PATH', 'PPID', 'PWD', 'OLDPWD', 'OPTIND', 'OPTARG', 'RANDOM', 'SECONDS', 'LINENO', 'ENV', 'PS1', 'PS4', 'HOME',
    'STEP', 'RUN_ID', 'DEADLINE_MS', 'FETCH_DEST', 'ENVFILE_FORMAT',
  ])('%s, which the shell or the script owns, is refused', name => {
    expect(() => envFileContainer({ variables: { [name]: kplus.EnvValue.fromValue('x') } }))
      .toThrow(`EnvFileInit test/write-env: variable name ${name} is reserved; rename it (the shell or the step's script sets or reads it)`);
  });

  test('names the shell does not own are fine, HOSTNAME and LANG included', () => {
    const c = envFileContainer({ variables: { HOSTNAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME), LANG: kplus.EnvValue.fromValue('C.UTF-8'), FETCH_URL: kplus.EnvValue.fromValue('x') } });
    expect(c.env).toContainEqual({ name: 'ENVFILE_VARS', value: 'HOSTNAME LANG FETCH_URL' });
  });

  test.each(['', '$(id)', 'a/b'])('a Secret key %j the API server rejects', key => {
    const secret = kplus.Secret.fromSecretName(newChart(), 's', 'app');
    expect(() => envFileContainer({ variables: { TOKEN: kplus.EnvValue.fromSecretValue({ secret, key }) } }))
      .toThrow(`EnvFileInit test/write-env: environment variable TOKEN: key ${JSON.stringify(key)} is not a valid Secret key`);
  });

  test('a key the Secret defined in this chart does not have; an optional reference or an empty Secret is not checked', () => {
    const make = (build: (chart: any) => kplus.EnvValue) => () => {
      const chart = newChart();
      const config = new SharedVolume(chart, 'config');
      InitSequence.of(appReading(chart, config)).add(new EnvFileInit(chart, 'write-env', { volume: config, variables: { TOKEN: build(chart) } }));
      return synthValid(chart);
    };
    const defined = (chart: any) => new kplus.Secret(chart, 'api', { stringData: { 'api-key': 'k' } });
    expect(make(chart => kplus.EnvValue.fromSecretValue({ secret: defined(chart), key: 'api_key' })))
      .toThrow(/\[test\/write-env\] environment variable TOKEN takes key "api_key" of Secret "test-api-c8[0-9a-f]+" \(test\/api\), which has only "api-key"/);
    expect(make(chart => kplus.EnvValue.fromSecretValue({ secret: defined(chart), key: 'api-key' }))).not.toThrow();
    expect(make(chart => kplus.EnvValue.fromSecretValue({ secret: defined(chart), key: 'api_key' }, { optional: true }))).not.toThrow();
    expect(make(chart => kplus.EnvValue.fromSecretValue({ secret: new kplus.Secret(chart, 'filled-elsewhere'), key: 'api_key' }))).not.toThrow();
  });
});

describe('EnvFileInit: the group that reads the file', () => {
  const variables = { A: kplus.EnvValue.fromValue('x') };

  /** Synthesizes `build`'s chart and returns its Deployment's pod spec. */
  function podSpec(build: (chart: Chart) => void): any {
    const chart = newChart();
    build(chart);
    return podSpecOf(synthValid(chart).find(o => o.kind === 'Deployment'));
  }

  test('by default, the run-as group of the app containers that mount the volume becomes the pod fsGroup', () => {
    const spec = podSpec(chart => {
      const config = new SharedVolume(chart, 'config');
      InitSequence.of(appReading(chart, config)).add(new EnvFileInit(chart, 'write-env', { volume: config, variables }));
    });
    expect(spec.securityContext).toMatchObject({ fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' });
  });

  test('a container without a group of its own runs as the pod\'s runAsGroup; containers not mounting the volume do not count', () => {
    const spec = podSpec(chart => {
      const config = new SharedVolume(chart, 'config');
      const d = new kplus.Deployment(chart, 'app', {
        securityContext: { user: 1000, group: 3000 },
        containers: [{ name: 'app', image: 'app:1.0' }, { name: 'sidecar', image: 'sidecar:1.0', securityContext: { user: 1001, group: 4000 } }],
      });
      config.mount(d.containers[0], '/etc/app');
      InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables }));
    });
    expect(spec.securityContext.fsGroup).toBe(3000);
  });

  test('an explicit group becomes the pod fsGroup, whatever the app containers run as', () => {
    const spec = podSpec(chart => {
      const config = new SharedVolume(chart, 'config');
      InitSequence.of(appReading(chart, config)).add(new EnvFileInit(chart, 'write-env', { volume: config, variables, group: 2000 }));
    });
    expect(spec.securityContext).toMatchObject({ fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' });
  });

  test('the pod\'s fsGroup, the workload\'s own or one another step needs, is used as it is', () => {
    const own = podSpec(chart => {
      const config = new SharedVolume(chart, 'config');
      const d = new kplus.Deployment(chart, 'app', { securityContext: { fsGroup: 5000 }, containers: [{ name: 'app', image: 'app:1.0' }] });
      config.mount(d.containers[0], '/etc/app');
      InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables }));
    });
    expect(own.securityContext.fsGroup).toBe(5000);
    // Whatever the order: the step that sets the fsGroup may come later.
    for (const envFirst of [true, false]) {
      const spec = podSpec(chart => {
        const config = new SharedVolume(chart, 'config');
        const data = new SharedVolume(chart, 'data');
        const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
        config.mount(d.containers[0], '/etc/app');
        const env = new EnvFileInit(chart, 'write-env', { volume: config, variables });
        const perms = new VolumePermissionsInit(chart, 'perms', { volume: data, group: 2000 });
        InitSequence.of(d).add(...envFirst ? [env, perms] : [perms, env]);
      });
      expect([envFirst, spec.securityContext.fsGroup]).toEqual([envFirst, 2000]);
    }
  });

  test('a group other than the pod\'s fsGroup fails, naming both', () => {
    const chart = newChart();
    const config = new SharedVolume(chart, 'config');
    const d = new kplus.Deployment(chart, 'app', { securityContext: { fsGroup: 5000 }, containers: [{ name: 'app', image: 'app:1.0' }] });
    expect(() => InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables, group: 2000 })))
      .toThrow('EnvFileInit test/write-env: needs fsGroup 2000, but workload test/app sets fsGroup 5000; a pod has one fsGroup');

    const other = newChart();
    const settings = new SharedVolume(other, 'config');
    const app = appReading(other, settings);
    InitSequence.of(app).add(new VolumePermissionsInit(other, 'perms', { volume: new SharedVolume(other, 'data'), group: 2000 }));
    expect(() => InitSequence.of(app).add(new EnvFileInit(other, 'write-env', { volume: settings, variables, group: 1000 })))
      .toThrow('EnvFileInit test/write-env: needs fsGroup 1000, but VolumePermissionsInit test/perms in workload test/app needs fsGroup 2000; a pod has one fsGroup');
  });

  test('the default app group conflicting with a later step\'s fsGroup fails, naming both', () => {
    const chart = newChart();
    const config = new SharedVolume(chart, 'config');
    const d = appReading(chart, config);
    InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables }));
    expect(() => InitSequence.of(d).add(new VolumePermissionsInit(chart, 'perms', { volume: new SharedVolume(chart, 'data'), group: 2000 })))
      .toThrow('VolumePermissionsInit test/perms: needs fsGroup 2000, but EnvFileInit test/write-env in workload test/app needs fsGroup 1000; a pod has one fsGroup');
  });

  const fixes = 'Give the step a `group`';
  test.each([
    ['no run-as group', (chart: Chart, config: SharedVolume) => {
      const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 1000 } }] });
      config.mount(d.containers[0], '/etc/app');
      return d;
    }, 'the app containers that mount volume "config" (app) set no run-as group'],
    ['no app container mounts the volume', (chart: Chart) =>
      new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 1000, group: 1000 } }] }),
    'no app container mounts volume "config", so no group to give it is known'],
    ['two groups', (chart: Chart, config: SharedVolume) => {
      const d = new kplus.Deployment(chart, 'app', {
        containers: [{ name: 'app', image: 'app:1.0', securityContext: { group: 1000 } }, { name: 'other', image: 'other:1.0', securityContext: { group: 2000 } }],
      });
      for (const c of d.containers) config.mount(c, '/etc/app');
      return d;
    }, 'the app containers that mount volume "config" run as different groups (1000, 2000)'],
  ])('without an fsGroup or one app group, synthesis fails: %s', (_name, build, why) => {
    const chart = newChart();
    const config = new SharedVolume(chart, 'config');
    InitSequence.of(build(chart, config)).add(new EnvFileInit(chart, 'write-env', { volume: config, variables }));
    expect(() => synthValid(chart)).toThrow(
      'EnvFileInit test/write-env: the app in workload test/app could not read config/app.env, a file owned by uid 65532 with mode 0440: ' +
      `the pod has no fsGroup and ${why}. ${fixes} (the app's gid; it becomes the pod's fsGroup), ` +
      'set the workload\'s securityContext.fsGroup, or give a mode readable by others (e.g. 0o444)');
  });

  test('an app container mounting the volume after the step was added: the error says which group to give', () => {
    const chart = newChart();
    const config = new SharedVolume(chart, 'config');
    const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 1000, group: 1000 } }] });
    InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables, mode: 0o440 }));
    config.mount(d.containers[0], '/etc/app');
    expect(() => synthValid(chart)).toThrow(
      'run as group 1000, but mounted it after the step was added. Give the step a `group` (the app\'s gid, e.g. group: 1000; it becomes the pod\'s fsGroup)');
  });

  test('a mode others may read, or an app running as the step\'s uid, needs no fsGroup', () => {
    const readable = podSpec(chart => {
      const config = new SharedVolume(chart, 'config');
      const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 1000 } }] });
      config.mount(d.containers[0], '/etc/app');
      InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables, mode: 0o444 }));
    });
    expect(readable.securityContext.fsGroup).toBeUndefined();
    const sameUid = podSpec(chart => {
      const config = new SharedVolume(chart, 'config');
      const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 65532, group: 1000 } }] });
      config.mount(d.containers[0], '/etc/app');
      InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: config, variables }));
    });
    expect(sameUid.securityContext.fsGroup).toBeUndefined();
  });

  test.each([
    [{ group: -1 }, 'group -1 is not a valid gid; give an integer from 0 to 2147483647'],
    [{ group: 1.5 }, 'group 1.5 is not a valid gid'],
    [{ group: 2147483648 }, 'group 2147483648 is not a valid gid'],
    [{ group: 1000, mode: 0o400 }, 'mode 0400 does not let group 1000 read the file; give a mode with group read, e.g. 0o440'],
  ])('bad group %j', (props, message) => {
    expect(() => new EnvFileInit(newChart(), 'write-env', { volume: new SharedVolume(newChart(), 'config'), variables, ...props }))
      .toThrow(`EnvFileInit test/write-env: ${message}`);
  });
});
