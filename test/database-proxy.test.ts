import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  DatabaseConnection, DatabaseProxy, InitSequence, KubernetesTarget, MigrationInit, MigrationJob, MigrationSource, MigrationTool,
  StepSecurity,
} from '../src';
import { RESTRICTED_STEP_CONTEXT } from './util/fixtures';
import { initContainersOf, podSpecOf, synthValid } from './util/manifest';

const INSTANCE = 'my-project:europe-west1:shop-db';

/** A chart whose app targets Kubernetes 1.30, where native sidecars are on by default. */
function sidecarChart(): Chart {
  const app = Testing.app();
  new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
  return new Chart(app, 'test');
}

/** The proxy's container, as its own sidecar step of a Deployment. */
function proxyContainer(proxy: DatabaseProxy, chart = sidecarChart()): any {
  const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(web).add(proxy.sidecar(chart, 'cloud-sql-proxy'));
  const objects = synthValid(chart);
  return { container: initContainersOf(objects)[0], spec: podSpecOf(objects.find(o => o.kind === 'Deployment')) };
}

describe('DatabaseProxy.cloudSqlProxy: the Cloud SQL Auth Proxy v2 as a native sidecar', () => {
  test('defaults: loopback listener, health checks for the kubelet, exit 0 on SIGTERM, Workload Identity', () => {
    const { container, spec } = proxyContainer(DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE }));
    expect(container).toEqual({
      name: 'cloud-sql-proxy',
      image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0',
      imagePullPolicy: 'IfNotPresent',
      args: [
        '--address', '127.0.0.1', '--port', '5432',
        '--health-check', '--http-address', '0.0.0.0', '--http-port', '9090',
        '--exit-zero-on-sigterm', '--structured-logs',
        INSTANCE,
      ],
      restartPolicy: 'Always',
      startupProbe: { httpGet: { path: '/startup', port: 9090, scheme: 'HTTP' }, periodSeconds: 1, failureThreshold: 60, timeoutSeconds: 5 },
      livenessProbe: { httpGet: { path: '/liveness', port: 9090, scheme: 'HTTP' }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      securityContext: RESTRICTED_STEP_CONTEXT,
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
    expect(container.readinessProbe).toBeUndefined();
    expect(spec.volumes ?? []).toEqual([]);
    expect(DatabaseProxy.CLOUD_SQL_PROXY_IMAGE).toBe(container.image);
  });

  test('every option: port, health port, private IP, IAM authentication, a key file from a Secret, resources', () => {
    const chart = sidecarChart();
    const key = new kplus.Secret(chart, 'sa-key', {});
    const proxy = DatabaseProxy.cloudSqlProxy({
      instanceConnectionName: `example.com:${INSTANCE}`,
      port: 3306,
      httpPort: 9801,
      privateIp: true,
      autoIamAuthn: true,
      credentials: { secret: key, key: 'key.json' },
      image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0-alpine',
      name: 'sql-proxy',
      resources: { memory: { limit: Size.mebibytes(512) } },
      security: StepSecurity.restricted({ user: 2000, group: 2000 }),
    });
    const { container, spec } = proxyContainer(proxy, chart);
    expect(container.name).toBe('sql-proxy');
    expect(container.image).toBe('gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0-alpine');
    expect(container.args).toEqual([
      '--address', '127.0.0.1', '--port', '3306',
      '--health-check', '--http-address', '0.0.0.0', '--http-port', '9801',
      '--exit-zero-on-sigterm', '--structured-logs',
      '--private-ip', '--auto-iam-authn', '--credentials-file', '/var/run/secrets/cloud-sql-proxy/credentials.json',
      `example.com:${INSTANCE}`,
    ]);
    expect(container.startupProbe.httpGet.port).toBe(9801);
    expect(container.livenessProbe.httpGet.port).toBe(9801);
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(container.securityContext).toMatchObject({ runAsUser: 2000, runAsGroup: 2000, readOnlyRootFilesystem: true });
    // The key reaches the proxy only as a read-only file from the Secret: never in args or env.
    expect(container.volumeMounts).toEqual([{ name: 'sql-proxy-credentials', mountPath: '/var/run/secrets/cloud-sql-proxy', readOnly: true }]);
    expect(spec.volumes).toEqual([{ name: 'sql-proxy-credentials', secret: { secretName: key.name, items: [{ key: 'key.json', path: 'credentials.json' }] } }]);
    expect(container.env).toBeUndefined();
  });

  test.each([
    ['no project and region', 'shop-db'],
    ['two parts', 'my-project:shop-db'],
    ['upper case', 'My-Project:europe-west1:shop-db'],
    ['a query string of per-instance flags', `${INSTANCE}?port=5433`],
    ['shell metacharacters', `${INSTANCE};id`],
    ['a kubelet reference', 'my-project:europe-west1:$(DB)'],
    ['empty', ''],
  ])('an instance connection name with %s is refused, naming it', (_what, name) => {
    expect(() => DatabaseProxy.cloudSqlProxy({ instanceConnectionName: name }))
      .toThrow(`DatabaseProxy.cloudSqlProxy: instanceConnectionName ${JSON.stringify(name)} is not an instance connection name "project:region:instance"`);
  });

  test.each([0, 65536, 1.5, NaN, -1])('port %p is refused', port => {
    expect(() => DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE, port }))
      .toThrow(`DatabaseProxy.cloudSqlProxy: instance ${INSTANCE}: port ${JSON.stringify(port)} is not an integer from 1 to 65535`);
    expect(() => DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE, httpPort: port }))
      .toThrow(`DatabaseProxy.cloudSqlProxy: instance ${INSTANCE}: httpPort: port ${JSON.stringify(port)} is not an integer from 1 to 65535`);
  });

  test('the health-check server on the database port is refused', () => {
    expect(() => DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE, port: 9090 }))
      .toThrow(`DatabaseProxy.cloudSqlProxy: instance ${INSTANCE}: httpPort 9090 is also the database port`);
  });

  test.each([
    ['gcr.io/cloud-sql-connectors/cloud-sql-proxy', 'has no tag'],
    ['gcr.io/cloud-sql-connectors/cloud-sql-proxy:latest', 'uses the "latest" tag'],
  ])('an unpinned image %s is refused', (image, why) => {
    expect(() => DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE, image }))
      .toThrow(`DatabaseProxy.cloudSqlProxy: image ${JSON.stringify(image)} ${why}`);
  });

  test('a Secret key the API server would reject is refused', () => {
    const key = new kplus.Secret(sidecarChart(), 'sa-key', {});
    expect(() => DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE, credentials: { secret: key, key: '../key.json' } }))
      .toThrow('DatabaseProxy.cloudSqlProxy: credentials.key "../key.json" is not a valid Secret key');
  });
});

describe('DatabaseProxy.custom: a proxy of your own', () => {
  test('its image, command, args and env as given; restricted and with proxy resources; no probe the kubelet could not reach', () => {
    const chart = sidecarChart();
    const token = new kplus.Secret(chart, 'proxy-token', {});
    const { container } = proxyContainer(DatabaseProxy.custom({
      image: 'ghcr.io/example/db-proxy:1.4.2',
      port: 6432,
      command: ['/db-proxy'],
      args: ['--listen', '127.0.0.1:6432'],
      env: { PROXY_TOKEN: kplus.EnvValue.fromSecretValue({ secret: token, key: 'token' }) },
      resources: { cpu: { request: kplus.Cpu.millis(20) } },
    }), chart);
    expect(container).toMatchObject({
      name: 'cloud-sql-proxy',
      image: 'ghcr.io/example/db-proxy:1.4.2',
      command: ['/db-proxy'],
      args: ['--listen', '127.0.0.1:6432'],
      env: [{ name: 'PROXY_TOKEN', valueFrom: { secretKeyRef: { name: token.name, key: 'token' } } }],
      restartPolicy: 'Always',
      resources: { requests: { cpu: '20m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      securityContext: RESTRICTED_STEP_CONTEXT,
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
    expect(Object.keys(container).filter(k => k.endsWith('Probe'))).toEqual([]);
  });

  test('its probes, when given', () => {
    const { container } = proxyContainer(DatabaseProxy.custom({
      image: 'ghcr.io/example/db-proxy:1.4.2',
      port: 6432,
      startupProbe: kplus.Probe.fromHttpGet('/ready', { port: 8081, periodSeconds: Duration.seconds(1) }),
      livenessProbe: kplus.Probe.fromHttpGet('/live', { port: 8081 }),
    }));
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/ready', port: 8081 }, periodSeconds: 1 });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/live', port: 8081 } });
  });

  test.each(['0.0.0.0', '10.0.0.7', 'localhost', '::'])('a listener on %s, not loopback, is refused', address => {
    expect(() => DatabaseProxy.custom({ image: 'ghcr.io/example/db-proxy:1.4.2', port: 6432, address }))
      .toThrow(`DatabaseProxy.custom: address ${JSON.stringify(address)} is not a loopback address (127.0.0.1, or ::1)`);
  });

  test('bad ports and unpinned images are refused', () => {
    expect(() => DatabaseProxy.custom({ image: 'ghcr.io/example/db-proxy:1.4.2', port: 70000 }))
      .toThrow('DatabaseProxy.custom: port 70000 is not an integer from 1 to 65535');
    expect(() => DatabaseProxy.custom({ image: 'ghcr.io/example/db-proxy:1.4.2', port: 6432, otherPorts: [0] }))
      .toThrow('DatabaseProxy.custom: otherPorts: port 0 is not an integer from 1 to 65535');
    expect(() => DatabaseProxy.custom({ image: 'ghcr.io/example/db-proxy', port: 6432 }))
      .toThrow('DatabaseProxy.custom: image "ghcr.io/example/db-proxy" has no tag');
  });

  test('a literal under a secret-looking env name is refused, as for any step', () => {
    const proxy = DatabaseProxy.custom({ image: 'ghcr.io/example/db-proxy:1.4.2', port: 6432, env: { PROXY_TOKEN: kplus.EnvValue.fromValue('hunter2') } });
    expect(() => proxyContainer(proxy)).toThrow(/environment variable PROXY_TOKEN has a literal value/);
  });
});

describe('a proxy in a pod', () => {
  const database = (chart: Chart, port = 5432) => new DatabaseConnection({
    host: '127.0.0.1', port, database: 'shop', credentials: new kplus.Secret(chart, `db-${port}`, {}), sslMode: 'disable',
  });

  test('an app can run it as its own sidecar, e.g. next to the wait for a MigrationJob', () => {
    const chart = sidecarChart();
    const proxy = DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE });
    const schema = new MigrationJob(chart, 'schema', { tool: MigrationTool.flyway(), database: database(chart), migrations: MigrationSource.inImage(), proxy });
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    InitSequence.of(web).add(schema.waitStep(chart, 'wait-for-schema'), proxy.sidecar(chart, 'cloud-sql-proxy'));
    const deployment = podSpecOf(synthValid(chart).find(o => o.kind === 'Deployment'));
    expect(deployment.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['wait-for-schema', undefined], ['cloud-sql-proxy', 'Always']]);
  });

  test('a container of the pod that declares the health port fails synthesis, naming both', () => {
    const chart = sidecarChart();
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0', ports: [{ number: 9090 }] }] });
    InitSequence.of(web).add(DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE }).sidecar(chart, 'cloud-sql-proxy'));
    expect(() => Testing.synth(chart)).toThrow(
      `the proxy "cloud-sql-proxy" (cloud-sql-proxy for ${INSTANCE} on 127.0.0.1:5432) listens on port 9090, which container "web" of ` +
      'workload test/web also declares; the containers of a pod share one network, so give one of them another port');
  });

  test('two proxies on one port in one pod are refused: the first one keeps running for the later steps', () => {
    const chart = sidecarChart();
    const proxy = DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE });
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    const db = database(chart);
    const migrate = (id: string) => new MigrationInit(chart, id, {
      tool: MigrationTool.flyway(), database: db, migrations: MigrationSource.inImage(), proxy,
    });
    expect(() => InitSequence.of(web).add(migrate('orders'), migrate('billing'))).toThrow(
      `DatabaseProxy test/billing/proxy: the proxy "billing-proxy" (cloud-sql-proxy for ${INSTANCE} on 127.0.0.1:5432) and the proxy ` +
      '"orders-proxy" (test/orders/proxy) both listen on port 5432, 9090 in workload test/web, and a pod has one network');
  });

  test('without a declared Kubernetes version, synthesis fails naming the proxy', () => {
    const chart = new Chart(Testing.app(), 'test');
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    InitSequence.of(web).add(DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE }).sidecar(chart, 'cloud-sql-proxy'));
    expect(() => Testing.synth(chart)).toThrow(
      'init step "cloud-sql-proxy" (test/cloud-sql-proxy) is a native sidecar (restartPolicy: Always), which an API server older than 1.28 accepts and drops');
  });
});
