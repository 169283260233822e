/**
 * MigrationJob + waitStep() on a real API server and kubelet: the Job migrates
 * a real PostgreSQL, the workload's WaitForJob steps read the Job through the
 * API with the least-privilege RBAC the library wires (in the Job's namespace,
 * for a workload in the same namespace or another one), and only the wait
 * containers get an API token: the app container has none, neither in its
 * spec as admitted nor in its filesystem.
 */
import { execFile } from 'child_process';
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  DatabaseConnection, InitSequence, MigrationJob, MigrationSource, MigrationTool,
} from '../../src';
import { APP_RESOURCES, BILLING_IMAGE, exec, find, inNamespaces, podSpecOf, synthApp, uniqueNamespace } from './util/chart-kit';
import { getJson, kubectl, logs } from './util/kube';
import { postgresBehind } from './util/stand-ins';
import { applyManifests, KubeObject, workloadPod, workloadReady } from './util/workloads';

const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The database side of a chart: a selector-less Service for the stand-in, the credentials, the connection. */
function database(chart: Chart): DatabaseConnection {
  const service = new kplus.Service(chart, 'postgres', { metadata: { name: 'postgres' }, ports: [{ port: 5432 }] });
  // The stand-in's superuser, with trust authentication: the password only has to reach the tool.
  const credentials = new kplus.Secret(chart, 'db-credentials', {
    metadata: { name: 'db-credentials' },
    stringData: { username: 'postgres', password: 'not-checked-by-trust-auth' },
  });
  return new DatabaseConnection({ service, database: 'postgres', credentials, sslMode: 'require' });
}

/** golang-migrate with the migrations baked into the image (invoices, version 2). */
function billingSchema(chart: Chart, db: DatabaseConnection): MigrationJob {
  return new MigrationJob(chart, 'billing-schema', {
    tool: MigrationTool.golangMigrate(),
    database: db,
    migrations: MigrationSource.inImage('/migrations'),
    image: 'ghcr.io/example/billing-migrations:2.0.4',
  });
}

/** The app: the billing stand-in (uid 1000), one small replica. */
function billingApp(chart: Chart): kplus.Deployment {
  return new kplus.Deployment(chart, 'billing', {
    replicas: 1,
    containers: [{ name: 'billing', image: BILLING_IMAGE, portNumber: 8080, resources: APP_RESOURCES }],
  });
}

/** `kubectl auth can-i` as a service account, as the API server's authorizer answers: true or false (anything else fails). */
async function canI(account: { namespace: string; name: string }, verb: string, resource: string, namespace: string): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource, '-n', namespace, `--as=system:serviceaccount:${account.namespace}:${account.name}`];
  // It exits 1 for "no": read its stdout either way.
  const answer = await new Promise<string>(resolve => execFile('kubectl', args, (_error, stdout) => resolve(String(stdout).trim())));
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl ${args.join(' ')} answered ${JSON.stringify(answer)}`);
  return answer === 'yes';
}

/** The psql answer of the stand-in's database, as its superuser. */
async function sql(namespace: string, pod: string, query: string): Promise<string> {
  return (await kubectl(['exec', '-n', namespace, pod, '-c', 'postgres', '--', 'psql', '-X', '-q', '-A', '-t', '-U', 'postgres', '-d', 'postgres', '-c', query])).trim();
}

/**
 * The token checks on a live, Ready pod of `workload`: as admitted (after the
 * ServiceAccount admission plugin), only `waitContainers` mount a token, from
 * the library's projected volume, and the app container neither mounts one nor
 * finds one in its filesystem (kubectl exec through the API server and kubelet).
 */
async function expectTokenOnlyInWaitSteps(workload: KubeObject, waitContainers: string[]): Promise<any> {
  const pod = await workloadPod(workload);
  const ns = pod.metadata.namespace;
  const spec = pod.spec;
  expect(spec.automountServiceAccountToken).toBe(false);
  // No token volume but the library's (with automount, 1.20 adds a `<account>-token-*` Secret volume).
  const tokenVolumes = (spec.volumes ?? []).filter((v: any) =>
    v.secret?.secretName?.includes('-token-') || (v.projected?.sources ?? []).some((s: any) => s.serviceAccountToken));
  expect(tokenVolumes.map((v: any) => v.name)).toEqual(['cdk8s-init-api-token']);
  const mountsToken = (c: any) => (c.volumeMounts ?? []).some((m: any) => m.mountPath.startsWith('/var/run/secrets/kubernetes.io') || m.name === 'cdk8s-init-api-token');
  expect(spec.initContainers.filter(mountsToken).map((c: any) => c.name).sort()).toEqual([...waitContainers].sort());
  expect(spec.containers.filter(mountsToken).map((c: any) => c.name)).toEqual([]);

  // From inside: the path is absent in the app container, though the same exec sees the rest of its filesystem.
  const app = spec.containers[0].name;
  const look = await exec(ns, pod.metadata.name, app, ['sh', '-c',
    `id -u; ls -A /var/run/secrets 2>&1; if [ -e ${TOKEN_DIR}/token ]; then echo token-present; else echo token-absent; fi`]);
  expect(look.code).toBe(0);
  expect(look.stdout).toContain('token-absent');
  expect(look.stdout).not.toContain('token-present');
  expect(look.stdout.split('\n')[0]).toBe('1000');
  return pod;
}

describe('MigrationJob and waitStep() on a real cluster (RBAC, API token)', () => {
  test('same namespace: two MigrationJobs migrate PostgreSQL; two WaitForJob steps read them with least privilege; only they get a token', async () => {
    const ns = uniqueNamespace('rbac-same');
    const { text, objects } = synthApp(app => {
      const chart = new Chart(app, 'shop', { namespace: ns });
      const db = database(chart);
      const invoices = billingSchema(chart, db);
      const payments = new MigrationJob(chart, 'payments-schema', {
        tool: MigrationTool.flyway(),
        database: db,
        migrations: MigrationSource.fromConfigMap(new kplus.ConfigMap(chart, 'payments-sql', {
          data: { 'V1__create_payments.sql': 'CREATE TABLE payments (id bigint PRIMARY KEY, cents bigint NOT NULL);' },
        })),
      });
      const billing = billingApp(chart);
      InitSequence.of(billing).add(
        invoices.waitStep(chart, 'wait-for-invoices', { timeout: Duration.minutes(3) }),
        payments.waitStep(chart, 'wait-for-payments', { timeout: Duration.minutes(3) }),
      );
    });
    const jobs = objects.filter(o => o.kind === 'Job');
    const invoicesJob = find(objects, 'Job', 'billing-schema-');
    const paymentsJob = find(objects, 'Job', 'payments-schema-');
    const billing = find(objects, 'Deployment');
    const account = find(objects, 'ServiceAccount');
    await inNamespaces([ns], async () => {
      // As synthesized: one Role per Job allowing get on that Job only, bound to the workload's own account.
      for (const job of jobs) {
        const role = objects.find(o => o.kind === 'Role' && o.metadata.name === `${job.metadata.name}-reader`) as any;
        expect(role?.rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], resourceNames: [job.metadata.name], verbs: ['get'] }]);
      }
      expect(podSpecOf(billing).serviceAccountName).toBe(account.metadata.name);

      await applyManifests(text);
      const standIn = await postgresBehind(ns, 'postgres');
      for (const job of jobs) await workloadReady(job, 150_000);
      await workloadReady(billing, 150_000);

      // The migrations ran against the real database.
      expect(await sql(ns, standIn.pod, 'SELECT version FROM schema_migrations')).toBe('2');
      expect(await sql(ns, standIn.pod, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'invoices' AND column_name = 'status'")).toBe('1');
      expect(await sql(ns, standIn.pod, 'SELECT version FROM flyway_schema_history')).toBe('1');
      expect(await sql(ns, standIn.pod, "SELECT to_regclass('public.payments') IS NOT NULL")).toBe('t');

      // Each wait container read its Job through the API with its token.
      const pod = await expectTokenOnlyInWaitSteps(billing, ['wait-for-invoices', 'wait-for-payments']);
      expect(await logs(ns, pod.metadata.name, 'wait-for-invoices')).toContain(`wait-for-job: job ${ns}/${invoicesJob.metadata.name} completed`);
      expect(await logs(ns, pod.metadata.name, 'wait-for-payments')).toContain(`wait-for-job: job ${ns}/${paymentsJob.metadata.name} completed`);
      expect(pod.spec.serviceAccountName).toBe(account.metadata.name);

      // Least privilege, as the API server's authorizer decides it.
      const sa = { namespace: ns, name: account.metadata.name };
      for (const job of jobs) expect(await canI(sa, 'get', `jobs/${job.metadata.name}`, ns)).toBe(true);
      expect(await canI(sa, 'get', 'jobs/some-other-job', ns)).toBe(false);
      expect(await canI(sa, 'list', 'jobs', ns)).toBe(false);
      expect(await canI(sa, 'get', 'secrets/db-credentials', ns)).toBe(false);
      expect(await canI(sa, 'delete', `jobs/${invoicesJob.metadata.name}`, ns)).toBe(false);
    });
  });

  test('different namespaces: the Role and RoleBinding live in the Job\'s namespace, the account in the workload\'s, and the wait reads across', async () => {
    const dbNs = uniqueNamespace('rbac-db');
    const appNs = uniqueNamespace('rbac-app');
    const { text, objects } = synthApp((app: App) => {
      const dbChart = new Chart(app, 'db', { namespace: dbNs });
      const schema = billingSchema(dbChart, database(dbChart));
      const appChart = new Chart(app, 'app', { namespace: appNs });
      const billing = billingApp(appChart);
      InitSequence.of(billing).add(schema.waitStep(appChart, 'wait-for-invoices', { timeout: Duration.minutes(3) }));
    });
    const job = find(objects, 'Job');
    const billing = find(objects, 'Deployment');
    const account = find(objects, 'ServiceAccount');
    const binding = find(objects, 'RoleBinding') as any;
    await inNamespaces([dbNs, appNs], async () => {
      expect(job.metadata.namespace).toBe(dbNs);
      expect(find(objects, 'Role').metadata.namespace).toBe(dbNs);
      expect(binding.metadata.namespace).toBe(dbNs);
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name, namespace: appNs }]);
      expect(account.metadata.namespace).toBe(appNs);
      expect(billing.metadata.namespace).toBe(appNs);

      await applyManifests(text);
      await postgresBehind(dbNs, 'postgres');
      await workloadReady(job, 150_000);
      await workloadReady(billing, 150_000);

      const pod = await expectTokenOnlyInWaitSteps(billing, ['wait-for-invoices']);
      const waitLog = await logs(appNs, pod.metadata.name, 'wait-for-invoices');
      expect(waitLog).toContain(`wait-for-job: job ${dbNs}/${job.metadata.name} completed`);
      expect(waitLog).not.toMatch(/HTTP 40[13]/);

      const sa = { namespace: appNs, name: account.metadata.name };
      expect(await canI(sa, 'get', `jobs/${job.metadata.name}`, dbNs)).toBe(true);
      expect(await canI(sa, 'get', 'jobs/some-other-job', dbNs)).toBe(false);
      expect(await canI(sa, 'get', `jobs/${job.metadata.name}`, appNs)).toBe(false);
      expect(await canI(sa, 'list', 'jobs', dbNs)).toBe(false);

      // The Job is read, never changed: its status is what the migration left.
      const live = await getJson(['job', '-n', dbNs, job.metadata.name]);
      expect(live.status.succeeded).toBe(1);
    });
  });
});
