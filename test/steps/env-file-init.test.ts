import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { EnvFileFormat, EnvFileInit, EnvFileInitProps, InitSequence, SharedVolume } from '../../src';
import { BusyboxBuild, emptyDir, forEachBusybox, runContainer, runScript } from '../util/container';
import { newChart } from '../util/fixtures';
import { initContainersOf, synthValid } from '../util/manifest';

const tricky = {
  QUOTES: 'it\'s "quoted"',
  DOLLARS: 'cost $5 and $(id) and `id` and ${HOME}',
  MULTILINE: '-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\n',
  BACKSLASH: 'C:\\path\\n not a newline',
  INJECT: 'x\'; touch /config/injected; echo \'\n$(touch /config/injected)',
  EMPTY: '',
};

/** Secret and Downward API values, as the kubelet resolves them. */
const resolved = { MULTILINE: tricky.MULTILINE, POD_IP: '10.1.2.3' };

function envFileContainer(props: Partial<EnvFileInitProps> = {}) {
  const chart = newChart();
  const secret = new kplus.Secret(chart, 'app-secrets', {});
  const out = new SharedVolume(chart, 'config');
  const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
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
        'DOLLARS="cost \\$5 and \\$(id) and `id` and \\${HOME}"',
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
      const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(d).add(new EnvFileInit(chart, 'write-env', { volume: new SharedVolume(chart, 'config'), variables: { TOKEN: build(chart) } }));
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
