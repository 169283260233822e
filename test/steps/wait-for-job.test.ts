import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  DatabaseConnection, InitSequence, MigrationJob, MigrationSource, MigrationTool, WaitForJob, WaitForService, WaitTarget,
} from '../../src';
import { BusyboxBuild, forEachBusybox, runContainer, RunOptions, RunResult, whenOutput } from '../util/container';
import { newChart } from '../util/fixtures';
import { kubeApi, KubeApi, SERVICE_ACCOUNT_DIR } from '../util/kube-api';
import { initContainersOf, podSpecOf, synthValid } from '../util/manifest';

function migrationChart() {
  const chart = newChart();
  const secret = new kplus.Secret(chart, 'db', {});
  const migration = new MigrationJob(chart, 'schema', {
    tool: MigrationTool.flyway(),
    database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: secret }),
    migrations: MigrationSource.inImage(),
  });
  const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(web).add(migration.waitStep(chart, 'wait-for-migration'));
  return { chart, migration, web };
}

describe('MigrationJob', () => {
  test('the migration runs once in a Job: wait as init container, tool as main container, no retries', () => {
    const { chart, migration } = migrationChart();
    const objects = synthValid(chart);
    const job = objects.find(o => o.kind === 'Job');
    expect(job.metadata.name).toMatch(/^schema-[0-9a-f]{8}$/);
    expect(job.metadata.name).toBe(migration.job.name);
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(1800);
    const spec = podSpecOf(job);
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['migrate-wait-db']);
    expect(spec.containers.map((c: any) => c.name)).toEqual(['migrate']);
    expect(spec.containers[0]).toMatchObject({
      command: ['flyway', 'migrate'],
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: { capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' }, runAsNonRoot: true },
    });
  });

  test('the Job name follows its content, so a changed migration is a new Job', () => {
    const name = (image: string) => {
      const chart = newChart();
      return new MigrationJob(chart, 'schema', {
        tool: MigrationTool.flyway(),
        database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
        migrations: MigrationSource.inImage(),
        image,
      }).job.name;
    };
    expect(name('ghcr.io/x/migrations:1.0.0')).toBe(name('ghcr.io/x/migrations:1.0.0'));
    expect(name('ghcr.io/x/migrations:1.0.0')).not.toBe(name('ghcr.io/x/migrations:1.1.0'));
  });

  test('the app waits for it with least-privilege RBAC in the Job\'s namespace, and only the wait container gets a token', () => {
    const { chart, migration } = migrationChart();
    const objects = synthValid(chart);
    const role = objects.find(o => o.kind === 'Role');
    expect(role.metadata.name).toBe(`${migration.job.name}-reader`);
    expect(role.rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], resourceNames: [migration.job.name], verbs: ['get'] }]);
    const account = objects.find(o => o.kind === 'ServiceAccount');
    const deployment = objects.find(o => o.kind === 'Deployment');
    expect(account.metadata.name).toBe(`${deployment.metadata.name}-init`);
    expect(account.automountServiceAccountToken).toBe(false);
    const binding = objects.find(o => o.kind === 'RoleBinding');
    expect(binding.metadata.name).toMatch(new RegExp(`^${migration.job.name}-reader-[0-9a-f]{8}$`));
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name }]);
    const web = podSpecOf(deployment);
    expect(web.serviceAccountName).toBe(account.metadata.name);
    // Left as cdk8s-plus renders it: the app container gets no token.
    expect(web.automountServiceAccountToken).toBe(false);
    expect(web.volumes).toEqual([expect.objectContaining({ name: 'cdk8s-init-api-token', projected: expect.anything() })]);
    expect(web.initContainers[0]).toMatchObject({
      name: 'wait-for-migration',
      image: 'curlimages/curl:8.11.1',
      env: [{ name: 'JOB_NAME', value: migration.job.name }, { name: 'WAIT_TIMEOUT', value: '600' }],
      volumeMounts: [{ name: 'cdk8s-init-api-token', mountPath: SERVICE_ACCOUNT_DIR, readOnly: true }],
    });
    expect(web.containers[0].volumeMounts).toBeUndefined();
  });

  test('a workload with its own service account gets the binding on that account, and its automount setting is kept', () => {
    const chart = newChart();
    const job = new kplus.Job(chart, 'seed', { containers: [{ name: 'seed', image: 'seed:1.0' }] });
    const sa = new kplus.ServiceAccount(chart, 'web-sa');
    const a = new kplus.Deployment(chart, 'a', { serviceAccount: sa, containers: [{ name: 'web', image: 'web:1.0' }] });
    const b = new kplus.Deployment(chart, 'b', { serviceAccount: sa, automountServiceAccountToken: true, containers: [{ name: 'web', image: 'web:1.0' }] });
    InitSequence.of(a).add(new WaitForJob(chart, 'wait-seed-a', { job }));
    InitSequence.of(b).add(new WaitForJob(chart, 'wait-seed-b', { job }));
    const objects = synthValid(chart);
    expect(objects.filter(o => o.kind === 'ServiceAccount')).toHaveLength(1);
    expect(objects.filter(o => o.kind === 'Role')).toHaveLength(1);
    // One binding per account, however many workloads use it: no duplicate objects.
    expect(objects.filter(o => o.kind === 'RoleBinding').map(o => o.subjects[0].name)).toEqual([sa.name]);
    const specs = objects.filter(o => o.kind === 'Deployment').map(podSpecOf);
    expect(specs.map(s => [s.serviceAccountName, s.automountServiceAccountToken])).toEqual([[sa.name, false], [sa.name, true]]);
  });

  test('two WaitForJob steps on one workload share one service account, with a Role and binding per Job', () => {
    const chart = newChart();
    const jobs = ['schema', 'seed'].map(n => new kplus.Job(chart, n, { metadata: { name: n }, containers: [{ name: n, image: `${n}:1.0` }] }));
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    InitSequence.of(web).add(...jobs.map(job => new WaitForJob(chart, `wait-${job.name}`, { job })));
    const objects = synthValid(chart);
    const account = objects.filter(o => o.kind === 'ServiceAccount');
    expect(account).toHaveLength(1);
    expect(objects.filter(o => o.kind === 'Role').map(o => o.rules[0].resourceNames)).toEqual([['schema'], ['seed']]);
    expect(objects.filter(o => o.kind === 'RoleBinding').map(o => [o.roleRef.name, o.subjects[0].name]))
      .toEqual([['schema-reader', account[0].metadata.name], ['seed-reader', account[0].metadata.name]]);
    // Applied in order: the account, Roles and bindings come before the workload that uses them.
    const kinds = objects.map(o => o.kind);
    expect(kinds.indexOf('Deployment')).toBeGreaterThan(Math.max(kinds.lastIndexOf('ServiceAccount'), kinds.lastIndexOf('Role'), kinds.lastIndexOf('RoleBinding')));
    const spec = podSpecOf(objects.find(o => o.kind === 'Deployment'));
    expect(spec.volumes.filter((v: any) => v.name === 'cdk8s-init-api-token')).toHaveLength(1);
    expect(spec.initContainers.map((c: any) => c.volumeMounts[0].name)).toEqual(['cdk8s-init-api-token', 'cdk8s-init-api-token']);
  });

  test('two workloads in different namespaces with same-named accounts get separate bindings', () => {
    const chart = newChart();
    const job = new kplus.Job(chart, 'schema', { metadata: { name: 'schema', namespace: 'db' }, containers: [{ name: 'm', image: 'm:1.0' }] });
    for (const ns of ['shop', 'billing']) {
      const sa = new kplus.ServiceAccount(chart, `sa-${ns}`, { metadata: { name: 'api', namespace: ns } });
      const web = new kplus.Deployment(chart, `web-${ns}`, { metadata: { namespace: ns }, serviceAccount: sa, containers: [{ name: 'web', image: 'web:1.0' }] });
      InitSequence.of(web).add(new WaitForJob(chart, `wait-${ns}`, { job }));
    }
    const bindings = synthValid(chart).filter(o => o.kind === 'RoleBinding');
    expect(bindings.map(b => b.subjects[0])).toEqual([
      { kind: 'ServiceAccount', name: 'api', namespace: 'shop' },
      { kind: 'ServiceAccount', name: 'api', namespace: 'billing' },
    ]);
    expect(new Set(bindings.map(b => b.metadata.name)).size).toBe(2);
  });

  test('a Job in another namespace: the Role and binding live in the Job\'s namespace and name the workload\'s account with its namespace', () => {
    const chart = newChart();
    const job = new kplus.Job(chart, 'schema', { metadata: { name: 'schema', namespace: 'db' }, containers: [{ name: 'm', image: 'm:1.0' }] });
    const web = new kplus.Deployment(chart, 'web', { metadata: { namespace: 'shop' }, containers: [{ name: 'web', image: 'web:1.0' }] });
    InitSequence.of(web).add(new WaitForJob(chart, 'wait', { job }));
    const objects = synthValid(chart);
    const account = objects.find(o => o.kind === 'ServiceAccount');
    expect(account.metadata.namespace).toBe('shop');
    expect(objects.find(o => o.kind === 'Role').metadata.namespace).toBe('db');
    const binding = objects.find(o => o.kind === 'RoleBinding');
    expect(binding.metadata.namespace).toBe('db');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name, namespace: 'shop' }]);
  });

  test('bad wiring fails at synth time: a Job with a TTL, a cross-namespace wait from a workload without namespace', () => {
    const chart = newChart();
    const ttl = new kplus.Job(chart, 'ttl', { ttlAfterFinished: Duration.minutes(5), containers: [{ name: 'm', image: 'm:1.0' }] });
    expect(() => new WaitForJob(chart, 'wait-ttl', { job: ttl }))
      .toThrow('WaitForJob test/wait-ttl: job test/ttl has ttlAfterFinished 5 minutes; once it is removed, new replicas cannot tell it completed and wait until their timeout. Remove ttlAfterFinished from the Job');
    const elsewhere = new kplus.Job(chart, 'elsewhere', { metadata: { namespace: 'db' }, containers: [{ name: 'm', image: 'm:1.0' }] });
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    expect(() => InitSequence.of(web).add(new WaitForJob(chart, 'wait', { job: elsewhere })))
      .toThrow(/WaitForJob test\/wait: job test\/elsewhere is in namespace "db" but workload test\/web has no namespace/);
    const here = new kplus.Job(chart, 'here', { containers: [{ name: 'm', image: 'm:1.0' }] });
    const shop = new kplus.Deployment(chart, 'shop', { metadata: { namespace: 'shop' }, containers: [{ name: 'web', image: 'web:1.0' }] });
    expect(() => InitSequence.of(shop).add(new WaitForJob(chart, 'wait-here', { job: here })))
      .toThrow(/WaitForJob test\/wait-here: workload test\/shop is in namespace "shop" but job test\/here has no namespace/);
  });
});

describe('WaitForJob runs in its container against a stand-in Kubernetes API that decides from the synthesized RBAC', () => {
  const NS = 'shop';
  const apis: KubeApi[] = [];
  afterEach(async () => { await Promise.all(apis.splice(0).map(a => a.close())); });

  const at = '2026-01-01T00:00:00Z';
  const running = { active: 1, startTime: at };
  // As Kubernetes 1.31+ reports them: SuccessCriteriaMet/FailureTarget come first.
  const complete = {
    succeeded: 1,
    conditions: [
      { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
      { type: 'Complete', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
    ],
  };
  const failed = {
    failed: 1,
    conditions: [
      { type: 'FailureTarget', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
      { type: 'Failed', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
    ],
  };

  interface Run {
    /** Job statuses served in turn; undefined: not created yet. */
    readonly statuses: Array<object | undefined>;
    readonly timeout?: number;
    /** Changes the synthesized objects before the API and the kubelet see them. */
    readonly alter?: (objects: any[]) => void;
    /** Changes the service account mount the kubelet made. */
    readonly alterMount?: (dir: string) => void;
    readonly sigtermWhen?: RunOptions['sigtermWhen'];
    /** Stop the API before the step starts. */
    readonly apiDown?: boolean;
  }

  async function run(busybox: BusyboxBuild, options: Run): Promise<RunResult & { api: KubeApi; account: string }> {
    const chart = newChart();
    const job = new kplus.Job(chart, 'schema', { metadata: { name: 'schema' }, containers: [{ name: 'm', image: 'm:1.0' }] });
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new WaitForJob(chart, 'wait', { job, timeout: Duration.seconds(options.timeout ?? 10) }));
    const objects = synthValid(chart);
    options.alter?.(objects);
    const [container] = initContainersOf(objects, 'Pod');
    const spec = podSpecOf(objects.find(o => o.kind === 'Pod'));
    const api = await kubeApi(objects, NS);
    apis.push(api);
    api.setJob(NS, 'schema', ...options.statuses);
    const kubelet = api.kubeletMounts(spec, container, NS);
    for (const dir of Object.values(kubelet.volumes)) options.alterMount?.(dir);
    if (options.apiDown) await api.close();
    const result = await runContainer(container, {
      busybox,
      env: api.serviceEnv,
      volumes: kubelet.volumes,
      mounts: kubelet.mounts,
      tools: ['curl'],
      killAfterMs: 30_000,
      sigtermWhen: options.sigtermWhen,
    });
    return { ...result, api, account: spec.serviceAccountName };
  }

  const forbidden = (account: string) => 'wait-for-job: not allowed to read job shop/schema (HTTP 403): jobs.batch "schema" is forbidden: ' +
    `User "system:serviceaccount:shop:${account}" cannot get resource "jobs" in API group "batch" in the namespace "shop"; ` +
    "the pod's service account needs get on jobs (RBAC)";

  forEachBusybox(busybox => {
    test('with the synthesized wiring: not found, then running, then complete; one line per state, exit 0', async () => {
      const r = await run(busybox, { statuses: [undefined, running, running, complete] });
      expect(r.output.trim().split('\n')).toEqual([
        'wait-for-job: job shop/schema not found yet',
        'wait-for-job: job shop/schema running (active 1, failed pods 0)',
        'wait-for-job: job shop/schema completed',
      ]);
      expect(r.code).toBe(0);
      expect(r.api.requests.map(q => [q.url, q.user, q.code])).toEqual([
        ...[404, 200, 200, 200].map(code => ['/apis/batch/v1/namespaces/shop/jobs/schema', `system:serviceaccount:shop:${r.account}`, code]),
      ]);
    });

    test('a failed Job fails the step at once, with its reason', async () => {
      const r = await run(busybox, { statuses: [running, failed] });
      expect(r.lastLine).toBe('wait-for-job: job shop/schema failed: BackoffLimitExceeded: Job has reached the specified backoff limit');
      expect(r.code).toBe(1);
      expect(r.api.requests).toHaveLength(2);
    });

    test('a Job that never finishes times out, naming its last state', async () => {
      const r = await run(busybox, { statuses: [{ active: 1, failed: 2 }], timeout: 2 });
      expect(r.lastLine).toBe('wait-for-job: timed out after 2s waiting for job shop/schema; last state: running (active 1, failed pods 2)');
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(5000);
    });

    test('an API that refuses connections: retried until the timeout, which names the refusal', async () => {
      const r = await run(busybox, { statuses: [complete], timeout: 2, apiDown: true });
      expect(r.lastLine).toMatch(/^wait-for-job: timed out after 2s waiting for job shop\/schema; last state: API unreachable: Failed to connect to 127.0.0.1 port \d+ .*(Connection refused|Could not connect to server|Couldn't connect to server)$/);
      expect(r.code).toBe(1);
    });

    test('SIGTERM while it waits for a running Job: exits 143 within 1 s', async () => {
      const r = await run(busybox, { statuses: [running], timeout: 60, sigtermWhen: whenOutput(/running/) });
      expect(r.code).toBe(143);
      expect(r.exitAfterSigtermMs).toBeLessThan(1000);
      expect(r.lastLine).toBe('wait-for-job: stopped by SIGTERM');
    });

    // The API allows nothing by fiat: each change to the synthesized RBAC below is refused.
    test.each<[string, (objects: any[]) => void]>([
      ['the RoleBinding removed', objects => { objects.splice(objects.findIndex(o => o.kind === 'RoleBinding'), 1); }],
      ['the Role removed', objects => { objects.splice(objects.findIndex(o => o.kind === 'Role'), 1); }],
      ['the Role naming another Job', objects => { objects.find(o => o.kind === 'Role').rules[0].resourceNames = ['other']; }],
      ['the Role without get', objects => { objects.find(o => o.kind === 'Role').rules[0].verbs = ['list', 'watch']; }],
      ['the Role on the core API group', objects => { objects.find(o => o.kind === 'Role').rules[0].apiGroups = ['']; }],
      ['the binding for another service account', objects => { objects.find(o => o.kind === 'RoleBinding').subjects[0].name = 'someone-else'; }],
      ['the binding\'s account in another namespace', objects => { objects.find(o => o.kind === 'RoleBinding').subjects[0].namespace = 'other'; }],
    ])('RBAC with %s: 403, and the step says which permission is missing', async (_change, alter) => {
      const r = await run(busybox, { statuses: [complete], alter });
      expect(r.lastLine).toBe(forbidden(r.account));
      expect(r.code).toBe(1);
      expect(r.api.requests.map(q => q.code)).toEqual([403]);
    });

    test('a token the API did not issue: 401, at once', async () => {
      const r = await run(busybox, { statuses: [complete], alterMount: dir => fs.writeFileSync(path.join(dir, 'token'), 'forged') });
      expect(r.lastLine).toBe('wait-for-job: the API rejected the service account token (HTTP 401): Unauthorized');
      expect(r.code).toBe(1);
    });

    test('without its projected token volume the step has no token, and says so', async () => {
      const r = await run(busybox, { statuses: [complete], alter: objects => { delete podSpecOf(objects.find(o => o.kind === 'Pod')).initContainers[0].volumeMounts; } });
      expect(r.lastLine).toBe(`wait-for-job: no service account token at ${SERVICE_ACCOUNT_DIR}/token; the step needs its projected token volume (WaitForJob adds it)`);
      expect(r.code).toBe(1);
      expect(r.api.requests).toEqual([]);
    });

    test('the app container gets no token from the kubelet', async () => {
      const chart = newChart();
      const job = new kplus.Job(chart, 'schema', { metadata: { name: 'schema' }, containers: [{ name: 'm', image: 'm:1.0' }] });
      const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(pod).add(new WaitForJob(chart, 'wait', { job }));
      const objects = synthValid(chart);
      const spec = podSpecOf(objects.find(o => o.kind === 'Pod'));
      const api = await kubeApi(objects, NS);
      apis.push(api);
      const app = spec.containers[0];
      expect(api.kubeletMounts(spec, app, NS).mounts).toEqual({});
      expect(app.volumeMounts).toBeUndefined();
    });
  });
});

test('MigrationJob and WaitForService compose in one app sequence', () => {
  const { chart, web } = migrationChart();
  InitSequence.of(web).add(new WaitForService(chart, 'wait-cache', { targets: [WaitTarget.tcp({ host: 'redis', port: 6379 })] }));
  expect(podSpecOf(synthValid(chart).find(o => o.kind === 'Deployment')).initContainers.map((c: any) => c.name)).toEqual(['wait-for-migration', 'wait-cache']);
});
