import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  DatabaseConnection, InitSequence, MigrationJob, MigrationSource, MigrationTool, WaitForJob, WaitForService, WaitTarget,
} from '../../src';
import { runContainer, RunResult, toolPath } from '../util/busybox';
import { newChart } from '../util/fixtures';
import { podSpecOf, synthValid } from '../util/manifest';
import { httpServer, LocalServer } from '../util/servers';

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

  test('the app waits for it with RBAC wired: Role (get/list/watch on that Job), ServiceAccount, RoleBinding, token', () => {
    const { chart, migration } = migrationChart();
    const objects = synthValid(chart);
    const role = objects.find(o => o.kind === 'Role');
    expect(role.rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], resourceNames: [migration.job.name], verbs: ['get', 'list', 'watch'] }]);
    const account = objects.find(o => o.kind === 'ServiceAccount');
    const binding = objects.find(o => o.kind === 'RoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: account.metadata.name })]);
    const web = podSpecOf(objects.find(o => o.kind === 'Deployment'));
    expect(web.serviceAccountName).toBe(account.metadata.name);
    expect(web.automountServiceAccountToken).toBe(true);
    expect(web.initContainers[0]).toMatchObject({
      name: 'wait-for-migration',
      image: 'curlimages/curl:8.11.1',
      env: [{ name: 'JOB_NAME', value: migration.job.name }, { name: 'WAIT_TIMEOUT', value: '600' }],
    });
  });

  test('a workload with its own service account gets the binding on that account', () => {
    const chart = newChart();
    const job = new kplus.Job(chart, 'seed', { containers: [{ name: 'seed', image: 'seed:1.0' }] });
    const sa = new kplus.ServiceAccount(chart, 'web-sa');
    const a = new kplus.Deployment(chart, 'a', { serviceAccount: sa, containers: [{ name: 'web', image: 'web:1.0' }] });
    const b = new kplus.Deployment(chart, 'b', { serviceAccount: sa, containers: [{ name: 'web', image: 'web:1.0' }] });
    const wait = new WaitForJob(chart, 'wait-seed', { job });
    InitSequence.of(a).add(wait);
    InitSequence.of(b).add(wait);
    const objects = synthValid(chart);
    expect(objects.filter(o => o.kind === 'ServiceAccount')).toHaveLength(1);
    expect(objects.filter(o => o.kind === 'RoleBinding').map(o => o.subjects[0].name)).toEqual([sa.name]);
    for (const d of objects.filter(o => o.kind === 'Deployment')) {
      expect(podSpecOf(d).serviceAccountName).toBe(sa.name);
      expect(podSpecOf(d).automountServiceAccountToken).toBe(true);
    }
  });
});

describe('WaitForJob runs for real against a stand-in Kubernetes API', () => {
  const curl = toolPath('curl');
  const servers: LocalServer[] = [];
  afterEach(async () => { await Promise.all(servers.splice(0).map(s => s.close())); });

  const jobJson = (status: object) => JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'schema' }, status });
  const complete = { succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  const failed = {
    failed: 1,
    conditions: [{ type: 'Failed', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }],
  };

  async function run(responses: Array<[number, string]>, timeout = 10): Promise<RunResult & { auth: string[]; urls: string[] }> {
    const auth: string[] = [];
    const urls: string[] = [];
    const api = await httpServer((req, res) => {
      auth.push(req.headers.authorization ?? '');
      urls.push(req.url!);
      const [code, body] = responses[Math.min(urls.length - 1, responses.length - 1)];
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    servers.push(api);
    const sa = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-'));
    fs.writeFileSync(path.join(sa, 'token'), 'token-123');
    fs.writeFileSync(path.join(sa, 'namespace'), 'shop');
    fs.writeFileSync(path.join(sa, 'ca.crt'), '');
    const chart = newChart();
    const job = new kplus.Job(chart, 'schema', { metadata: { name: 'schema' }, containers: [{ name: 'm', image: 'm:1.0' }] });
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new WaitForJob(chart, 'wait', { job, timeout: Duration.seconds(timeout) }));
    const container = podSpecOf(synthValid(chart).find(o => o.kind === 'Pod')).initContainers[0];
    const result = await runContainer(container, {
      env: { KUBE_API_URL: `http://127.0.0.1:${api.port}`, KUBE_SERVICE_ACCOUNT_DIR: sa },
      extraPath: [curl],
      killAfterMs: 30_000,
    });
    return { ...result, auth, urls };
  }

  test('not found, then running, then complete: exits 0 with one line per state', async () => {
    const r = await run([[404, '{"kind":"Status"}'], [200, jobJson({ active: 1 })], [200, jobJson({ active: 1 })], [200, jobJson(complete)]]);
    expect(r.code).toBe(0);
    expect(r.urls.every(u => u === '/apis/batch/v1/namespaces/shop/jobs/schema')).toBe(true);
    expect(r.auth.every(a => a === 'Bearer token-123')).toBe(true);
    expect(r.output.trim().split('\n')).toEqual([
      'wait-for-job: job shop/schema not found yet',
      'wait-for-job: job shop/schema running (active 1, failed pods 0)',
      'wait-for-job: job shop/schema completed',
    ]);
  });

  test('a failed Job fails the step at once, with its reason', async () => {
    const r = await run([[200, jobJson({ active: 1 })], [200, JSON.stringify(JSON.parse(jobJson(failed)), null, 2)]]);
    expect(r.code).toBe(1);
    expect(r.urls).toHaveLength(2);
    expect(r.output.trim().split('\n').pop()).toBe('wait-for-job: job shop/schema failed: BackoffLimitExceeded: Job has reached the specified backoff limit');
  });

  test('missing RBAC fails at once with the fix', async () => {
    const r = await run([[403, '{"kind":"Status","reason":"Forbidden"}']]);
    expect(r.code).toBe(1);
    expect(r.output.trim()).toBe("wait-for-job: not allowed to read job shop/schema (HTTP 403): the pod's service account needs get on jobs (RBAC)");
  });

  test('a Job that never finishes times out, naming its last state', async () => {
    const r = await run([[200, jobJson({ active: 1, failed: 2 })]], 2);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(6000);
    expect(r.output.trim().split('\n').pop()).toBe('wait-for-job: timed out after 2s waiting for job shop/schema; last state: running (active 1, failed pods 2)');
  });
});

test('MigrationJob and WaitForService compose in one app sequence', () => {
  const { chart, web } = migrationChart();
  InitSequence.of(web).add(new WaitForService(chart, 'wait-cache', { targets: [WaitTarget.tcp({ host: 'redis', port: 6379 })] }));
  expect(podSpecOf(synthValid(chart).find(o => o.kind === 'Deployment')).initContainers.map((c: any) => c.name)).toEqual(['wait-for-migration', 'wait-cache']);
});
