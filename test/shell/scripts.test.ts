/**
 * The kubelet rewrites a container's command, args and env before the shell
 * sees them (`$(NAME)` becomes NAME's value, `$$` becomes `$`). What the
 * library writes there must reach the process exactly as tested.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  CertificateCheckInit, ConfigFetchInit, ConfigSource, DatabaseConnection, EnvFileInit, InitSequence,
  MigrationJob, MigrationSource, MigrationTool, SharedVolume, VolumePermissionsInit, WaitForService, WaitTarget,
} from '../../src';
import { shellScript } from '../../src/shell/scripts';
import { runContainer, testContainers } from '../util/container';
import { newChart } from '../util/fixtures';
import { containerArgv, containerEnv } from '../util/kubelet';
import { initContainersOf, synthValid } from '../util/manifest';
import { httpServer } from '../util/servers';

const SHELL_DIR = path.join(__dirname, '..', '..', 'assets', 'shell');
const ASSETS = fs.readdirSync(SHELL_DIR).filter(f => f.endsWith('.sh')).map(f => shellScript(f));

/** Splits `script` into whole asset texts, in order, or returns undefined when it is not such a concatenation. */
function assetSequence(script: string): string[] | undefined {
  if (script === '') return [];
  for (const asset of ASSETS) {
    if (script.startsWith(asset)) {
      const rest = assetSequence(script.slice(asset.length));
      if (rest) return [asset, ...rest];
    }
  }
  return undefined;
}

/** One workload with every step kind whose container runs a library script. */
function everyScriptStep(): any[] {
  const chart = newChart();
  const secret = new kplus.Secret(chart, 'creds', {});
  const configMap = new kplus.ConfigMap(chart, 'templates-cm');
  const templates = new SharedVolume(chart, 'templates', { volume: kplus.Volume.fromConfigMap(chart, 'tv', configMap, { name: 'templates' }) });
  const tls = new SharedVolume(chart, 'tls', { volume: kplus.Volume.fromSecret(chart, 'tls-v', secret, { name: 'tls' }) });
  const config = new SharedVolume(chart, 'config');
  const data = new SharedVolume(chart, 'data');
  const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  const migration = new MigrationJob(chart, 'schema', {
    tool: MigrationTool.flyway(),
    database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: secret }),
    migrations: MigrationSource.inImage(),
  });
  InitSequence.of(web).add(
    new WaitForService(chart, 'wait', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 }), WaitTarget.http({ host: 'api' })] }),
    new ConfigFetchInit(chart, 'http', { volume: config, source: ConfigSource.http({ files: [{ url: 'https://example.com/a.json', path: 'a.json' }] }) }),
    new ConfigFetchInit(chart, 'git', { volume: config, source: ConfigSource.git({ repository: 'https://git.example.com/x.git', revision: 'v1', directory: 'site' }) }),
    new ConfigFetchInit(chart, 's3', { volume: config, source: ConfigSource.s3({ uri: 's3://bucket/key.yaml', path: 'key.yaml' }) }),
    new ConfigFetchInit(chart, 'render', { volume: config, source: ConfigSource.template({ templates, files: [{ template: 'a.tmpl', path: 'a.conf' }], variables: { A: kplus.EnvValue.fromValue('x') } }) }),
    new EnvFileInit(chart, 'env', { volume: config, variables: { B: kplus.EnvValue.fromValue('y') } }),
    new VolumePermissionsInit(chart, 'perms', { volume: data, group: 2000 }),
    new CertificateCheckInit(chart, 'cert', { certificate: tls }),
    migration.waitStep(chart, 'wait-job'),
  );
  const containers = initContainersOf(synthValid(chart));
  expect(containers.map(c => c.name)).toEqual(expect.arrayContaining(['wait', 'http', 'git', 's3', 'render', 'env', 'perms', 'cert', 'wait-job']));
  return containers.filter(c => c.command?.[0] === 'sh');
}

test('every library script reaches the shell as the tested text of assets/shell/, after the kubelet\'s expansion', () => {
  const containers = everyScriptStep();
  expect(containers.length).toBeGreaterThanOrEqual(9);
  for (const c of containers) {
    // Every env var of the step is defined, so any $(NAME) in the script text would be replaced.
    const env = containerEnv(c, Object.fromEntries((c.env ?? []).filter((e: any) => e.valueFrom).map((e: any) => [e.name, 'from-api'])));
    const [sh, dashC, script] = containerArgv(c, env);
    expect([c.name, sh, dashC]).toEqual([c.name, 'sh', '-c']);
    const sequence = assetSequence(script);
    expect([c.name, sequence === undefined ? 'not a concatenation of assets/shell/*.sh' : 'assets']).toEqual([c.name, 'assets']);
    expect([c.name, sequence?.[0]]).toEqual([c.name, shellScript('lib.sh')]);
  }
});

testContainers('library-built env values reach the process exactly, even with $(NAME) and $$ in user input', async () => {
  const server = await httpServer((_req, res) => { res.writeHead(200); res.end(); });
  try {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    // Unescaped, the kubelet would turn $$ into $ and $(HOSTNAME)... stay, $(WAIT_TIMEOUT) is a later var.
    const probePath = '/probe?a=$$b&c=$(WAIT_TIMEOUT)&d=$(HOSTNAME)';
    InitSequence.of(pod).add(new WaitForService(chart, 'wait', {
      targets: [WaitTarget.http({ host: '127.0.0.1', port: server.port, path: probePath })],
      timeout: Duration.seconds(5),
    }));
    const result = await runContainer(initContainersOf(synthValid(chart))[0]);
    expect(result.code).toBe(0);
    expect(server.requests).toEqual([probePath]);
  } finally {
    await server.close();
  }
});
