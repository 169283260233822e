/**
 * A StatefulSet that starts only with a usable TLS certificate, a data volume
 * writable by its group (the pod's fsGroup: no root chown), and an env file
 * built from pod fields and a Secret. Its app container is hardened too, and
 * the chart enforces the policy on the whole pod, so `cdk8s synth` fails on
 * anything a namespace enforcing the restricted Pod Security level would reject.
 */
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  AppContainerHardening, CertificateCheckInit, EnvFileInit, InitContainerPolicy, InitSequence, SharedVolume, VolumePermissionsInit,
} from '../../src';
import { exampleOutdir } from '../outdir';

export class SecureDataChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'data' });
    const tlsSecret = kplus.Secret.fromSecretName(this, 'tls-secret', 'search-tls');
    const apiKey = kplus.Secret.fromSecretName(this, 'api-key', 'search-api-key');

    const tls = new SharedVolume(this, 'tls', { volume: kplus.Volume.fromSecret(this, 'tls-volume', tlsSecret, { name: 'tls' }) });
    const data = new SharedVolume(this, 'data', { sizeLimit: Size.gibibytes(5) });
    const settings = new SharedVolume(this, 'settings', { medium: kplus.EmptyDirMedium.MEMORY });

    const search = new kplus.StatefulSet(this, 'search', {
      replicas: 3,
      service: new kplus.Service(this, 'search-headless', { clusterIP: 'None', ports: [{ port: 9200 }] }),
      containers: [{
        name: 'search',
        image: 'ghcr.io/example/search:8.15.0',
        ports: [{ number: 9200 }],
        securityContext: { user: 1000, group: 1000 },
      }],
    });
    const main = search.containers[0];
    tls.mount(main, '/etc/search/tls');
    data.mount(main, '/var/lib/search', { readOnly: false });
    settings.mount(main, '/etc/search/env');
    AppContainerHardening.restrict(search);

    InitSequence.of(search).add(
      new CertificateCheckInit(this, 'check-tls', {
        certificate: tls,
        ca: tls,
        dnsNames: ['search.data.svc', '*.search-headless.data.svc'],
        minValidDays: 14,
      }),
      // Group access is enough for the app (gid 1000): fsGroup, no root chown.
      new VolumePermissionsInit(this, 'own-data', { volume: data, group: 1000 }),
      new EnvFileInit(this, 'write-env', {
        volume: settings,
        variables: {
          NODE_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
          NODE_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
          MEMORY_LIMIT: kplus.EnvValue.fromResource(kplus.ResourceFieldPaths.MEMORY_LIMIT, { container: main }),
          SEARCH_API_KEY: kplus.EnvValue.fromSecretValue({ secret: apiKey, key: 'key' }),
        },
      }),
    );

    InitContainerPolicy.enforce(this, { wholePod: true });
  }
}

export const app = new App({ outdir: exampleOutdir('secure-data') });
new SecureDataChart(app, 'secure-data');
app.synth();
