/**
 * The synthesis benchmark's workload: N Deployments, each with 4 init steps and
 * 2 shared volumes, built once with cdk8s-init and once directly with
 * cdk8s-plus (the same manifests, written by hand).
 *
 * The app runs as its own uid and gid, as apps usually do: the env file
 * (mode 0440, owned by the step's uid) is then readable through the pod's
 * fsGroup, which the library derives from the app's group.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ConfigFetchInit, ConfigSource, EnvFileInit, InitSequence, InitStep, SharedVolume, WaitForService, WaitTarget } from '../src';
import { kubeletLiteral } from '../src/private/kubelet-literal';

const BUSYBOX = 'busybox:1.36.1';
const CONFIG_URL = 'https://config.example.com/app.yaml';
const APP_ID = 1000;
const APP = { name: 'app', image: 'app:1.0', securityContext: { user: APP_ID, group: APP_ID } };

/** With the library. */
export function withLibrary(workloads: number): App {
  const app = new App({ outdir: 'unused' });
  const chart = new Chart(app, 'bench');
  for (let i = 0; i < workloads; i++) {
    const scope = new Construct(chart, `svc${i}`);
    const config = new SharedVolume(scope, 'config');
    const env = new SharedVolume(scope, 'env');
    const d = new kplus.Deployment(scope, 'deployment', { containers: [APP] });
    config.mount(d.containers[0], '/etc/app');
    env.mount(d.containers[0], '/etc/env');
    InitSequence.of(d).add(
      new WaitForService(scope, 'wait-db', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })] }),
      new ConfigFetchInit(scope, 'fetch-config', { volume: config, source: ConfigSource.http({ files: [{ url: CONFIG_URL, path: 'app.yaml' }] }) }),
      new EnvFileInit(scope, 'write-env', { volume: env, variables: { POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP) } }),
      new InitStep(scope, 'lint-config', { image: BUSYBOX, command: ['test', '-s', '/config/app.yaml'], reads: [{ volume: config, path: '/config' }] }),
    );
  }
  return app;
}

// The scripts without comment lines, every `$` doubled so the kubelet's `$(VAR)`/`$$` expansion leaves them intact.
function script(...names: string[]): string {
  return kubeletLiteral(names.map(n => fs.readFileSync(path.join(__dirname, '..', 'assets', 'shell', n), 'utf8')
    .split('\n').filter(l => !/^\s*(#.*)?$/.test(l)).join('\n') + '\n').join(''));
}

/** Directly with cdk8s-plus: what a user would write by hand for the same manifests. */
export function withCdk8sPlus(workloads: number): App {
  const app = new App({ outdir: 'unused' });
  const chart = new Chart(app, 'bench');
  const waitScript = script('lib.sh', 'wait-for-service.sh');
  const fetchScript = script('lib.sh', 'fetch-lib.sh', 'fetch-http.sh');
  const envScript = script('lib.sh', 'env-file.sh');
  const resources = { cpu: { request: kplus.Cpu.millis(50) }, memory: { request: Size.mebibytes(32), limit: Size.mebibytes(64) } };
  const securityContext = {
    user: 65532, group: 65532, ensureNonRoot: true, privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
  };
  const v = kplus.EnvValue.fromValue;
  for (let i = 0; i < workloads; i++) {
    const scope = new Construct(chart, `svc${i}`);
    const config = kplus.Volume.fromEmptyDir(scope, 'config', 'config');
    const env = kplus.Volume.fromEmptyDir(scope, 'env', 'env');
    const d = new kplus.Deployment(scope, 'deployment', {
      containers: [APP],
      // What the library sets for the env file's readers (EnvFileInit's default group).
      securityContext: { fsGroup: APP_ID, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH },
    });
    d.containers[0].mount('/etc/app', config, { readOnly: true });
    d.containers[0].mount('/etc/env', env, { readOnly: true });
    const common = { image: BUSYBOX, imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT, resources, securityContext };
    d.addInitContainer({
      ...common,
      name: 'wait-db',
      command: ['sh', '-c', waitScript],
      volumeMounts: [],
      envVariables: {
        WAIT_TARGETS: v('tcp db 5432'), WAIT_TIMEOUT: v('300'), WAIT_MIN_INTERVAL_MS: v('100'), WAIT_MAX_INTERVAL_MS: v('500'), WAIT_ATTEMPT_TIMEOUT: v('5'),
      },
    });
    d.addInitContainer({
      ...common,
      image: 'curlimages/curl:8.11.1',
      name: 'fetch-config',
      command: ['sh', '-c', fetchScript],
      envVariables: {
        FETCH_FILES: v(`app.yaml 0644 - ${CONFIG_URL}`), FETCH_DEST: v('/var/run/cdk8s-init/out'), FETCH_TIMEOUT: v('120'), FETCH_ATTEMPT_TIMEOUT: v('60'),
      },
      volumeMounts: [{ path: '/var/run/cdk8s-init/out', volume: config, readOnly: false }],
    });
    d.addInitContainer({
      ...common,
      name: 'write-env',
      command: ['sh', '-c', envScript],
      envVariables: {
        POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
        FETCH_DEST: v('/var/run/cdk8s-init/out'),
        ENVFILE_PATH: v('app.env'),
        ENVFILE_FORMAT: v('shell'),
        ENVFILE_VARS: v('POD_IP'),
        ENVFILE_MODE: v('0440'),
      },
      volumeMounts: [{ path: '/var/run/cdk8s-init/out', volume: env, readOnly: false }],
    });
    d.addInitContainer({
      ...common,
      name: 'lint-config',
      command: ['test', '-s', '/config/app.yaml'],
      envVariables: {},
      volumeMounts: [{ path: '/config', volume: config, readOnly: true }],
    });
    const api = ApiObject.of(d);
    for (let c = 0; c < 4; c++) {
      const p = `/spec/template/spec/initContainers/${c}`;
      api.addJsonPatch(
        JsonPatch.add(`${p}/terminationMessagePolicy`, 'FallbackToLogsOnError'),
        JsonPatch.add(`${p}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
        JsonPatch.add(`${p}/securityContext/capabilities`, { drop: ['ALL'] }),
      );
    }
  }
  return app;
}
