/**
 * Every app in examples/, applied unchanged to the real cluster, with stand-in
 * dependencies: each workload reaches Ready (Complete for a Job), each init
 * step's log shows it did its work, the app reads what the steps prepared, and
 * a re-run (a new sandbox for the same pod, or a new pod) gives the same result
 * with fetches and migrations as no-ops.
 */
import { ExternalHosts, FLAGS_JSON, startExternalHosts } from './util/external';
import { deleteNamespace, exec, getJson, killSandbox, kubectl, logs, waitFor } from './util/kube';
import { httpBehind, postgresBehind, secret } from './util/stand-ins';
import { issueCert } from './util/tls';
import { applyManifests, exampleManifests, initLogs, KubeObject, oneReplica, workloadPod, workloadReady } from './util/workloads';

/** The examples' Services without a selector: each gets a stand-in of the kind its port suggests. */
async function standInsFor(objects: KubeObject[], database?: { name: string; user: string }): Promise<void> {
  const services = objects.filter(o => o.kind === 'Service' && Object.keys(o.spec.selector ?? {}).length === 0 && o.spec.clusterIP !== 'None');
  await Promise.all(services.map(s => s.spec.ports[0].port === 5432
    ? postgresBehind(s.metadata.namespace!, s.metadata.name, database?.name, database?.user)
    : httpBehind(s.metadata.namespace!, s.metadata.name)));
}

function workload(objects: KubeObject[], kind: string, nameIncludes = ''): KubeObject {
  const found = objects.find(o => o.kind === kind && o.metadata.name.includes(nameIncludes));
  if (!found) throw new Error(`no ${kind} ${nameIncludes}`);
  return found;
}

/** The app container's stand-in log: its summary line, once it has checked every mount. */
async function appSummary(pod: any, container: string): Promise<string> {
  return waitFor(`the app stand-in in ${pod.metadata.name} to check its volumes`, 30_000, async () => {
    const text = await logs(pod.metadata.namespace, pod.metadata.name, container);
    return /app: read \d+ files/.test(text) ? text : undefined;
  });
}

/** A pod's restart of its init sequence after its sandbox was killed, waited until Ready again. */
async function rerunInSamePod(o: KubeObject, pod: any): Promise<any> {
  const firstInit = pod.spec.initContainers[0].name;
  await killSandbox(pod);
  await waitFor(`pod ${pod.metadata.name} to run its init sequence again`, 120_000, async () => {
    const live = await getJson(['pod', '-n', pod.metadata.namespace, pod.metadata.name]);
    const first = live.status.initContainerStatuses?.find((s: any) => s.name === firstInit);
    return first?.restartCount > 0 || undefined;
  });
  await workloadReady(o);
  return getJson(['pod', '-n', pod.metadata.namespace, pod.metadata.name]);
}

/** Deletes a workload's pod and waits for its replacement to be Ready. */
async function replacePod(o: KubeObject, pod: any): Promise<any> {
  await getJson(['pod', '-n', pod.metadata.namespace, pod.metadata.name]);
  await kubectl(['delete', 'pod', '-n', pod.metadata.namespace, pod.metadata.name, '--wait=false']);
  const next = await waitFor(`a new pod of ${o.metadata.name}`, 120_000, async () => {
    const p = await workloadPod(o).catch(() => undefined);
    return p && p.metadata.uid !== pod.metadata.uid ? p : undefined;
  });
  await workloadReady(o);
  return getJson(['pod', '-n', next.metadata.namespace, next.metadata.name]);
}

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

  describe('config-fetch', () => {
    let external: ExternalHosts;
    beforeAll(async () => { external = await startExternalHosts(); });
    afterAll(async () => { await external?.close(); await deleteNamespace('web'); });

    test('fetches over HTTPS with a verified checksum, checks out Git, renders the env file; a re-run is a no-op', async () => {
      const { text, objects } = exampleManifests('config-fetch');
      const web = workload(objects, 'Deployment');
      await applyManifests(text);
      await oneReplica(objects);
      await secret('web', 'config-server-token', { token: 'e2e-config-token' });
      await secret('web', 'web-db', { password: 'pa$$ `word` $(id)' });
      await workloadReady(web);
      const pod = await workloadPod(web);
      const steps = await initLogs(pod);
      expect(steps.get('fetch-flags')).toContain(`fetched flags.json (${FLAGS_JSON.length} bytes, sha256 verified)`);
      expect(steps.get('fetch-site')).toMatch(/checked out https:\/\/git\.example\.com\/web\/site\.git at v3\.2\.0 \([0-9a-f]{40}\), sub-path public,/);
      expect(steps.get('render-env')).toContain('rendered app.env.tmpl -> app.env');
      const app = await appSummary(pod, 'web');
      expect(app).toMatch(/app: read 3 files in 2 volumes/);
      expect(await exec('web', pod.metadata.name, 'web', ['cat', '/etc/app/flags.json'])).toBe(FLAGS_JSON);
      expect(await exec('web', pod.metadata.name, 'web', ['cat', '/usr/share/nginx/html/site/index.html'])).toBe('<h1>site v3.2.0</h1>\n');
      const env = await exec('web', pod.metadata.name, 'web', ['cat', '/etc/app/app.env']);
      expect(env).toContain(`LISTEN_ADDR=${pod.status.podIP}:8080`);
      expect(env).toContain('DATABASE_PASSWORD=pa$$ `word` $(id)');
      // The token went to the host it was given for, and nowhere else.
      expect(external.requests.filter(r => r.host === 'config.example.com').every(r => r.authorization === 'e2e-config-token')).toBe(true);
      expect(external.requests.filter(r => r.host !== 'config.example.com').some(r => r.authorization)).toBe(false);

      // A new sandbox for the same pod: the init sequence runs again over the same volumes.
      const fetchesBefore = external.requests.filter(r => r.path === '/web/flags.json').length;
      const again = await rerunInSamePod(web, pod);
      const rerun = await initLogs(again);
      expect(rerun.get('fetch-flags')).toContain('flags.json is already present (sha256 ');
      expect(external.requests.filter(r => r.path === '/web/flags.json').length).toBe(fetchesBefore);
      expect(rerun.get('fetch-site')).toMatch(/checked out .* at v3\.2\.0/);
      // Nothing left behind: no scratch directories beside the fetched files.
      const listing = await exec('web', again.metadata.name, 'web', ['sh', '-c', 'ls -A /etc/app /usr/share/nginx/html /usr/share/nginx/html/site']);
      expect(listing).not.toMatch(/\.fetch\.|\.tmp\./);
      expect(await exec('web', again.metadata.name, 'web', ['cat', '/etc/app/flags.json'])).toBe(FLAGS_JSON);
    });
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

  test('secure-data: certificate checked, data volume group-writable, env file readable by the app', async () => {
    const { text, objects } = exampleManifests('secure-data');
    const search = workload(objects, 'StatefulSet');
    try {
      await applyManifests(text);
      await oneReplica(objects);
      const tls = issueCert('search', ['search.data.svc', '*.search-headless.data.svc'], 30);
      await secret('data', 'search-tls', { 'tls.crt': tls.cert, 'tls.key': tls.key, 'ca.crt': tls.ca });
      await secret('data', 'search-api-key', { key: "it's a $ecret" });
      await workloadReady(search);
      const pod = await workloadPod(search);
      const steps = await initLogs(pod);
      expect(steps.get('check-tls')).toMatch(/is valid from .* until .*, covers search\.data\.svc \*\.search-headless\.data\.svc, chains to /);
      expect(steps.get('own-data')).toContain('is writable by group 1000 (fsGroup)');
      expect(steps.get('write-env')).toContain('wrote 4 variable(s) to app.env');
      const app = await appSummary(pod, 'search');
      expect(app).toMatch(/app: uid=1000 gid=1000 groups=.*\b1000\b/);
      expect(app).toMatch(/app\.env sets MEMORY_LIMIT NODE_IP NODE_NAME SEARCH_API_KEY/);
      expect(app).toMatch(/wrote to [1-9]/);
      const env = await exec('data', pod.metadata.name, 'search', ['sh', '-c', '. /etc/search/env/app.env && printf "%s|%s" "$SEARCH_API_KEY" "$NODE_IP"']);
      expect(env).toBe(`it's a $ecret|${pod.status.podIP}`);
    } finally {
      await deleteNamespace('data');
    }
  });
});
