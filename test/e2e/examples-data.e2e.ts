/**
 * The examples that fetch, check and write data (config-fetch, secure-data),
 * applied unchanged to the real cluster: each reaches Ready, the app reads
 * what the steps prepared, and a re-run in the same pod is a no-op that leaves
 * nothing behind.
 */
import { appSummary, rerunInSamePod, workload } from './util/examples';
import { ExternalHosts, FLAGS_JSON, startExternalHosts } from './util/external';
import { deleteNamespace, exec } from './util/kube';
import { secret } from './util/stand-ins';
import { issueCert } from './util/tls';
import { applyManifests, exampleManifests, initLogs, oneReplica, workloadPod, workloadReady } from './util/workloads';

describe('data examples on a real cluster', () => {
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
      // config (flags.json, app.env), site (index.html), and nginx's /tmp, the one it writes to.
      expect(app).toMatch(/app: read 3 files in 3 volumes, wrote to 1/);
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
