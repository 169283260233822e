/**
 * A Deployment whose config is fetched and rendered before it starts:
 * feature flags over HTTPS (checksum pinned, bearer token from a Secret), the
 * nginx config from a Git tag, and a template filled with the pod IP and a
 * secret. The app mounts both volumes read-only.
 */
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AppContainerHardening, ConfigFetchInit, ConfigSource, InitSequence, SharedVolume } from '../../src';
import { exampleOutdir } from '../outdir';

export class ConfigFetchChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'web' });
    const token = kplus.Secret.fromSecretName(this, 'config-token', 'config-server-token');
    const db = kplus.Secret.fromSecretName(this, 'db', 'web-db');
    const templatesMap = new kplus.ConfigMap(this, 'templates', {
      data: { 'app.env.tmpl': 'LISTEN_ADDR=${POD_IP}:8080\nDATABASE_PASSWORD=${DB_PASSWORD}\nLOG_LEVEL=${LOG_LEVEL:-info}\n' },
    });

    const config = new SharedVolume(this, 'config', { medium: kplus.EmptyDirMedium.MEMORY });
    const site = new SharedVolume(this, 'site');
    const templates = new SharedVolume(this, 'templates-volume', {
      volume: kplus.Volume.fromConfigMap(this, 'templates-cm-volume', templatesMap, { name: 'templates' }),
    });

    const web = new kplus.Deployment(this, 'web', {
      replicas: 2,
      // nginx's unprivileged image (uid 101, port 8080): the official one starts as root, which
      // runAsNonRoot (set by AppContainerHardening below) makes the kubelet refuse. Its group reads
      // app.env (mode 0440): render-env makes it the pod's fsGroup.
      containers: [{
        name: 'web',
        image: 'nginxinc/nginx-unprivileged:1.27.3',
        ports: [{ number: 8080 }],
        securityContext: { user: 101, group: 101 },
      }],
    });
    // nginx writes its pid and temp files under /tmp, and the root filesystem is read-only.
    web.containers[0].mount('/tmp', kplus.Volume.fromEmptyDir(this, 'nginx-tmp', 'nginx-tmp'));
    config.mount(web.containers[0], '/etc/app');
    site.mount(web.containers[0], '/usr/share/nginx/html');
    // drop ALL capabilities and seccomp RuntimeDefault: a restricted namespace admits the pod.
    AppContainerHardening.restrict(web);

    InitSequence.of(web).add(
      new ConfigFetchInit(this, 'fetch-flags', {
        volume: config,
        source: ConfigSource.http({
          files: [{
            url: 'https://config.example.com/web/flags.json',
            path: 'flags.json',
            sha256: '79200b989217d5d25edaa0c2b8f788c82949456d357e0c3619823690afc9a8a2',
            mode: 0o444,
          }],
          authHeader: { secret: token, key: 'token' },
        }),
        timeout: Duration.minutes(1),
      }),
      new ConfigFetchInit(this, 'fetch-site', {
        volume: site,
        source: ConfigSource.git({ repository: 'https://git.example.com/web/site.git', revision: 'v3.2.0', subPath: 'public' }),
      }),
      new ConfigFetchInit(this, 'render-env', {
        volume: config,
        source: ConfigSource.template({
          templates,
          files: [{ template: 'app.env.tmpl', path: 'app.env', mode: 0o440 }],
          variables: {
            POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
            DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: db, key: 'password' }),
          },
        }),
      }),
    );
  }
}

export const app = new App({ outdir: exampleOutdir('config-fetch') });
new ConfigFetchChart(app, 'config-fetch');
app.synth();
