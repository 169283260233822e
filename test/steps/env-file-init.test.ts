import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { EnvFileFormat, EnvFileInit, EnvFileInitProps, InitSequence, SharedVolume } from '../../src';
import { runContainer, runScript } from '../util/busybox';
import { newChart } from '../util/fixtures';
import { initContainersOf, synthValid } from '../util/manifest';

const tricky = {
  QUOTES: 'it\'s "quoted"',
  DOLLARS: 'cost $5 and $(id) and `id` and ${HOME}',
  MULTILINE: '-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\n',
  BACKSLASH: 'C:\\path\\n not a newline',
  EMPTY: '',
};

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
      EMPTY: kplus.EnvValue.fromValue(tricky.EMPTY),
      POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
    },
    ...props,
  }));
  return initContainersOf(synthValid(chart))[0];
}

async function writeEnvFile(format: EnvFileFormat): Promise<string> {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'envfile-'));
  const r = await runContainer(envFileContainer({ format }), { env: { FETCH_DEST: dest, MULTILINE: tricky.MULTILINE, POD_IP: '10.1.2.3' } });
  expect(r.code).toBe(0);
  expect(r.output.trim()).toBe('env-file: wrote 6 variable(s) to app.env');
  expect(fs.statSync(path.join(dest, 'app.env')).mode % 0o1000).toBe(0o440);
  expect(fs.readdirSync(dest)).toEqual(['app.env']);
  return path.join(dest, 'app.env');
}

describe('EnvFileInit', () => {
  test('manifest: the secret and the Downward API field are references, not values', () => {
    const c = envFileContainer();
    expect(c.env).toContainEqual({ name: 'MULTILINE', valueFrom: { secretKeyRef: { name: expect.any(String), key: 'key' } } });
    expect(c.env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    expect(c.env).toContainEqual({ name: 'ENVFILE_VARS', value: 'QUOTES DOLLARS MULTILINE BACKSLASH EMPTY POD_IP' });
  });

  test('SHELL: sourcing the file with sh gives back every value exactly', async () => {
    const file = await writeEnvFile(EnvFileFormat.SHELL);
    for (const [name, value] of Object.entries({ ...tricky, POD_IP: '10.1.2.3' })) {
      const r = await runScript(`. "$1" && printf '%s' "$${name}"`, [file]);
      expect(r.code).toBe(0);
      expect(r.output).toBe(value);
    }
  });

  test('DOTENV: double-quoted with \\\\ \\" \\$ and \\n escapes', async () => {
    const file = await writeEnvFile(EnvFileFormat.DOTENV);
    expect(fs.readFileSync(file, 'utf8')).toBe([
      'QUOTES="it\'s \\"quoted\\""',
      'DOLLARS="cost \\$5 and \\$(id) and `id` and \\${HOME}"',
      'MULTILINE="-----BEGIN KEY-----\\nabc\\ndef\\n-----END KEY-----\\n"',
      'BACKSLASH="C:\\\\path\\\\n not a newline"',
      'EMPTY=""',
      'POD_IP="10.1.2.3"',
      '',
    ].join('\n'));
  });

  test.each([
    [{ variables: {} }, 'give at least one variable'],
    [{ variables: { lower: kplus.EnvValue.fromValue('x') } }, 'variable name "lower" must be upper case'],
    [{ variables: { ENVFILE_PATH: kplus.EnvValue.fromValue('x') } }, 'variable name ENVFILE_PATH is reserved'],
    [{ path: '../x' }, 'path "../x" must be a relative path'],
    [{ variables: { API_TOKEN: kplus.EnvValue.fromValue('abc') } }, 'environment variable API_TOKEN has a literal value'],
  ])('bad input %#', (props, message) => {
    expect(() => envFileContainer(props as any)).toThrow(message);
  });
});
