/**
 * The apps in examples/ that run without data of their own, applied unchanged
 * to the real cluster with stand-in dependencies: each workload reaches Ready
 * (Complete for a Job), each init step's log shows it did its work, and a new
 * pod runs the sequence again with the migrations as no-ops. (config-fetch and
 * secure-data: examples-data.e2e.ts, which jest runs beside this file.)
 */
import { appSummary, replacePod, standInsFor, workload } from './util/examples';
import { deleteNamespace, getJson, kubectl, logs } from './util/kube';
import { secret } from './util/stand-ins';
import { applyManifests, exampleManifests, initLogs, oneReplica, workloadPod, workloadReady } from './util/workloads';

describe('examples on a real cluster', () => {
  test('guide-pod: the init container runs, then the app starts with the shared volume mounted read-only', async () => {
    const { text, objects } = exampleManifests('guide-pod');
    const pod = workload(objects, 'Pod');
    try {
      await applyManifests(text);
      await workloadReady(pod);
      const live = await workloadPod(pod);
      expect((await initLogs(live)).get('init-myservice')).toContain('Initializing...');
      expect(await appSummary(live, 'myapp-container')).toMatch(/app: read 0 files in 1 volumes, wrote to 0/);
    } finally {
      await kubectl(['delete', 'pod', 'example-pod', '--wait=true', '--grace-period=1']);
    }
  });

  test('wait-for-deps: the web app starts once PostgreSQL and the inventory API answer', async () => {
    const { text, objects } = exampleManifests('wait-for-deps');
    const web = workload(objects, 'Deployment');
    try {
      await applyManifests(text);
      await oneReplica(objects);
      // The dependencies come up after the pod: the step waits for them.
      await standInsFor(objects);
      await workloadReady(web);
      const pod = await workloadPod(web);
      const wait = (await initLogs(pod)).get('wait-for-deps')!;
      expect(wait).toMatch(/all 2 targets ready after \d+\.\ds/);
      expect(wait).toMatch(/wait-for-deps-postgres-\w+\.shop\.svc(\.cluster\.local)?:5432 is ready/);
      expect(wait).toMatch(/http:\/\/wait-for-deps-inventory-api-\w+\.shop\.svc(\.cluster\.local)?:8080\/healthz is ready/);
    } finally {
      await deleteNamespace('shop');
    }
  });

  test('migrations: Flyway in every replica, golang-migrate once in a Job the app waits for; re-runs are no-ops', async () => {
    const { text, objects } = exampleManifests('migrations');
    const orders = workload(objects, 'Deployment', 'orders');
    const billing = workload(objects, 'Deployment', 'billing');
    const job = workload(objects, 'Job');
    try {
      await applyManifests(text);
      await oneReplica(objects);
      await secret('shop', 'shop-db', { username: 'shop', password: 'e2e-password' });
      await standInsFor(objects, { name: 'shop', user: 'shop' });
      await workloadReady(job);
      await workloadReady(orders);
      await workloadReady(billing);

      const ordersPod = await workloadPod(orders);
      const ordersSteps = await initLogs(ordersPod);
      expect(ordersSteps.get('wait-for-payments')).toMatch(/all 1 targets ready|is ready after/);
      const flyway = ordersSteps.get('migrate-orders')!;
      expect(flyway).toMatch(/flyway-stub: arg\[1\]=migrate/);
      expect(flyway).toContain('Successfully applied 2 migrations');
      const billingPod = await workloadPod(billing);
      expect((await initLogs(billingPod)).get('wait-for-billing-schema')).toMatch(/job shop\/\S+ completed/);
      const jobPods = (await getJson(['pods', '-n', 'shop', '-l', `job-name=${job.metadata.name}`])).items;
      const migrate = await logs('shop', jobPods[0].metadata.name, jobPods[0].spec.containers[0].name);
      expect(migrate).toContain('migrate-stub: arg[2]=/migrations');
      expect(migrate).toMatch(/migrate-stub: arg\[4\]=postgres:\/\/migrations-postgres-\w+\.shop\.svc:5432\/shop\?sslmode=require/);
      // The password arrives in the environment (PGPASSWORD), never in the arguments.
      expect(migrate).toContain('migrate-stub: env PGPASSWORD=<12 chars>');
      expect(migrate).toContain('migrate-stub: 2/u add_invoice_status');

      // A new pod: the migration runs again and finds nothing to do; the wait finds the Job complete.
      const ordersAgain = await replacePod(orders, ordersPod);
      expect((await initLogs(ordersAgain)).get('migrate-orders')).toContain('Schema is up to date. No migration necessary.');
      const billingAgain = await replacePod(billing, billingPod);
      expect((await initLogs(billingAgain)).get('wait-for-billing-schema')).toMatch(/job shop\/\S+ completed/);
    } finally {
      await deleteNamespace('shop');
    }
  });

});
