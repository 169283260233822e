import { execFileSync } from 'child_process';
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ConfigFetchInit, ConfigFetchInitProps, ConfigSource, InitSequence, SharedVolume } from '../../src';
import { BusyboxBuild, emptyDir, forEachBusybox, runContainer, RunOptions, whenOutput } from '../util/container';
import { newChart } from '../util/fixtures';
import { gitHttpServer } from '../util/git-server';
import { initContainersOf, podSpecOf, synthValid } from '../util/manifest';
import { S3StandIn, s3StandIn } from '../util/s3-bucket';
import { freePort, httpServer, LocalServer } from '../util/servers';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const tmpDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const mode = (file: string) => fs.statSync(file).mode % 0o1000;
/** Where the step mounts the volume it fills. */
const OUT = '/var/run/cdk8s-init/out';
/** A scratch directory of one run for DEST's NAME: unique per run, never `$$` (1 in every pod) nor the kubelet's `.$`. */
const scratchOf = (name: string) => new RegExp(`^\\.${name.replace(/\./g, '\\.')}\\.fetch\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`);
const DAY_AGO = new Date(Date.now() - 86_400_000);
/** The uid the steps run as: what a replica's or a crashed run's files are owned by. */
const STEP_UID = 65532;
/** Gives `dir` and everything in it to the step's uid, as if a run of the step had written it. */
const ownedByStep = (dir: string) => execFileSync('chown', ['-R', `${STEP_UID}:${STEP_UID}`, dir]);

/** Synthesizes a Deployment with one ConfigFetchInit writing volume `config`; returns [step container, pod spec]. */
function fetchStep(props: (chart: any, config: SharedVolume) => Omit<ConfigFetchInitProps, 'volume'>): { container: any; spec: any } {
  const chart = newChart();
  const config = new SharedVolume(chart, 'config');
  // The app's group reads files of mode 0o640 or 0o440 through the pod's fsGroup.
  const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 1000, group: 1000 } }] });
  config.mount(d.containers[0], '/etc/app');
  InitSequence.of(d).add(new ConfigFetchInit(chart, 'fetch-config', { ...props(chart, config), volume: config }));
  const objects = synthValid(chart);
  return { container: initContainersOf(objects)[0], spec: podSpecOf(objects.find(o => o.kind === 'Deployment')) };
}

/** For `sigtermWhen`: runs `act` once the log matches `pattern`, and sends no SIGTERM. */
function onOutput(pattern: RegExp, act: () => void): NonNullable<RunOptions['sigtermWhen']> {
  return (output, finished) => whenOutput(pattern)(output, finished).then(() => { act(); return new Promise<void>(() => {}); });
}

/** For `sigtermWhen`: once the log matches `pattern`, records the entries of `dir` and sends SIGTERM. */
function listThenSigterm(pattern: RegExp, dir: string, seen: string[]): NonNullable<RunOptions['sigtermWhen']> {
  return (output, finished) => whenOutput(pattern)(output, finished).then(() => { seen.push(...fs.readdirSync(dir)); });
}

const servers: LocalServer[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map(s => s.close())); });

async function serve(routes: Record<string, (res: http.ServerResponse, n: number, req: http.IncomingMessage) => void>) {
  const counts: Record<string, number> = {};
  const server = await httpServer((req, res) => {
    const route = routes[req.url!];
    counts[req.url!] = (counts[req.url!] ?? 0) + 1;
    if (route) {route(res, counts[req.url!], req);} else { res.writeHead(404); res.end('no'); }
  });
  servers.push(server);
  return { url: (p: string) => `http://127.0.0.1:${server.port}${p}`, server, counts };
}

/** A self-signed certificate for 127.0.0.1, in a directory the step can read (mounted as a CA bundle). */
function selfSignedCert(): { dir: string; key: Buffer; cert: Buffer } {
  const dir = tmpDir('tls-');
  fs.chmodSync(dir, 0o755);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  fs.chmodSync(path.join(dir, 'cert.pem'), 0o644);
  return { dir, key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
}

describe('ConfigFetchInit over HTTP(S): manifest and validation', () => {
  test('manifest: curl image, restricted, volume read-write in the step and read-only in the app', () => {
    const { container, spec } = fetchStep(() => ({ source: ConfigSource.http({ files: [{ url: 'https://config.example.com/app.yaml', path: 'app.yaml' }] }) }));
    expect(ConfigSource.CURL_IMAGE).toBe('curlimages/curl:8.11.1');
    expect(container.image).toBe(ConfigSource.CURL_IMAGE);
    expect(container.volumeMounts).toEqual([{ name: 'config', mountPath: OUT, readOnly: false }]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'config', mountPath: '/etc/app', readOnly: true }]);
    expect(container.env.find((e: any) => e.name === 'FETCH_FILES').value).toBe('app.yaml 0644 - https://config.example.com/app.yaml');
  });

  test('valid input in other spellings: an upper-case scheme and checksum, a fully qualified host, an empty port', () => {
    const digest = sha256('x');
    const { container } = fetchStep(() => ({
      source: ConfigSource.http({
        files: [
          { url: 'HTTPS://Config.Example.com./app.yaml', path: 'app.yaml', sha256: digest.toUpperCase() },
          { url: 'http://config.example.com:/b', path: 'b' },
        ],
      }),
    }));
    // The script compares schemes and digests as strings: both in lower case.
    expect(container.env.find((e: any) => e.name === 'FETCH_FILES').value)
      .toBe(`app.yaml 0644 ${digest} https://Config.Example.com./app.yaml\nb 0644 - http://config.example.com:/b`);
  });

  describe('bad input fails at synth time', () => {
    const make = (files: any[], extra: any = {}) => () => fetchStep(() => ({ source: ConfigSource.http({ files, ...extra }) }));
    test('no files', () => {
      expect(make([])).toThrow('ConfigFetchInit test/fetch-config: give at least one file');
    });
    test.each(['ftp://x/a', 'http://x/a b', 'http://x/`id`', "http://x/'a'", 'x/a'])('URL %j', url => {
      expect(make([{ url, path: 'a' }])).toThrow(`ConfigFetchInit test/fetch-config: URL ${JSON.stringify(url)} must be a http/https URL`);
    });
    test('credentials in the URL', () => {
      expect(make([{ url: 'https://user:pass@x/a', path: 'a' }])).toThrow(/contains credentials; take them from a Secret instead/);
    });
    test.each(['/etc/passwd', '../a', 'a/../../b', '-rf', 'a b', ''])('path %j', p => {
      expect(make([{ url: 'http://x/a', path: p }])).toThrow(`ConfigFetchInit test/fetch-config: path ${JSON.stringify(p)} must be a relative path`);
    });
    test('a bad checksum', () => {
      expect(make([{ url: 'http://x/a', path: 'a', sha256: 'ABC' }])).toThrow('sha256 "ABC" of a is not 64 hex digits');
      expect(make([{ url: 'http://x/a', path: 'a', sha256: 'g'.repeat(64) }])).toThrow(`sha256 "${'g'.repeat(64)}" of a is not 64 hex digits`);
    });
    test.each(['0', '65536', '99999', '80a'])('a URL with port %s', port => {
      const url = `https://config.example.com:${port}/a`;
      expect(make([{ url, path: 'a' }])).toThrow(`ConfigFetchInit test/fetch-config: URL ${JSON.stringify(url)}: port "${port}" is not an integer from 1 to 65535`);
    });
    test.each(['999.1.1.1', '10.0.0.256'])('a URL with host %s', host => {
      const url = `http://${host}/a`;
      expect(make([{ url, path: 'a' }])).toThrow(
        `ConfigFetchInit test/fetch-config: URL ${JSON.stringify(url)}: host "${host}" is not a valid IP address (four numbers from 0 to 255), and a DNS name cannot end in a numeric label`);
    });
    test('one file inside another', () => {
      expect(make([{ url: 'http://x/a', path: 'conf' }, { url: 'http://x/b', path: 'conf/b.yaml' }]))
        .toThrow('ConfigFetchInit test/fetch-config: paths "conf" and "conf/b.yaml" overlap: "conf/b.yaml" is inside "conf"; give each its own path');
      expect(make([{ url: 'http://x/a', path: 'conf/a' }, { url: 'http://x/b', path: 'conf' }])).toThrow('"conf/a" is inside "conf"');
      expect(make([{ url: 'http://x/a', path: 'conf' }, { url: 'http://x/b', path: 'config' }])).not.toThrow();
    });
    test.each(['', '$(id)', 'a b', '..data', '.', 'k'.repeat(254)].map(k => [k.length > 20 ? `of ${k.length} characters` : JSON.stringify(k), k]))('an auth header key %s', (_title, key) => {
      expect(() => fetchStep(chart => ({
        source: ConfigSource.http({ files: [{ url: 'http://x/a', path: 'a' }], authHeader: { secret: new kplus.Secret(chart, 'token'), key } }),
      }))).toThrow(`ConfigFetchInit test/fetch-config: authHeader.key ${JSON.stringify(key)} is not a valid Secret key`);
    });
    test('a key the Secret of this chart does not have', () => {
      const withKeys = (key: string) => () => fetchStep(chart => ({
        source: ConfigSource.http({
          files: [{ url: 'http://x/a', path: 'a' }],
          authHeader: { secret: new kplus.Secret(chart, 'token', { stringData: { token: 't', other: 'o' } }), key },
        }),
      }));
      expect(withKeys('tokn')).toThrow(/\[test\/fetch-config\] environment variable FETCH_AUTH_VALUE takes key "tokn" of Secret "test-token-c8[0-9a-f]+" \(test\/token\), which has only "other", "token"$/m);
      expect(withKeys('token')).not.toThrow();
    });
    test('timeouts under 1 s, or NaN, are errors naming the value (never silently 1 s)', () => {
      const files = [{ url: 'http://x/a', path: 'a' }];
      const withTimeouts = (t: Partial<ConfigFetchInitProps>) => () => fetchStep(() => ({ source: ConfigSource.http({ files }), ...t }));
      expect(withTimeouts({ timeout: Duration.millis(500) })).toThrow('ConfigFetchInit test/fetch-config: timeout 500 millis is under 1 second; give at least Duration.seconds(1)');
      expect(withTimeouts({ attemptTimeout: Duration.seconds(0) })).toThrow('ConfigFetchInit test/fetch-config: attemptTimeout 0 seconds is under 1 second');
      expect(withTimeouts({ timeout: Duration.seconds(NaN) })).toThrow('ConfigFetchInit test/fetch-config: timeout NaN is not a finite duration');
      const env = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
      expect(env(withTimeouts({ timeout: Duration.millis(1500), attemptTimeout: Duration.seconds(1) })().container))
        .toMatchObject({ FETCH_TIMEOUT: '2', FETCH_ATTEMPT_TIMEOUT: '1' });
    });
    test('a bad mode', () => {
      expect(make([{ url: 'http://x/a', path: 'a', mode: 0o1777 }])).toThrow('mode 1023 is not a file mode from 0o000 to 0o777');
    });
    test('the same path twice', () => {
      expect(make([{ url: 'http://x/a', path: 'a' }, { url: 'http://x/b', path: 'a' }])).toThrow('path "a" is given twice');
    });
  });
});

forEachBusybox((bb: BusyboxBuild) => {
  describe('ConfigFetchInit over HTTP(S)', () => {
    const run = (container: any, volume: string, options: RunOptions = {}) =>
      runContainer(container, { busybox: bb, tools: ['curl'], volumes: { config: volume }, killAfterMs: 30_000, ...options });
    const httpStep = (files: any[], extra: Partial<ConfigFetchInitProps> = {}) =>
      fetchStep(() => ({ source: ConfigSource.http({ files }), ...extra })).container;
    const authStep = (files: any[], header?: string) => fetchStep(chart => ({
      source: ConfigSource.http({ files, authHeader: { secret: new kplus.Secret(chart, 'token', {}), key: 'token', header } }),
      timeout: Duration.seconds(5),
    })).container;

    test('fetches several files with modes and verified checksums', async () => {
      const a = 'listen: 8080\n';
      const b = Buffer.from([0, 1, 2, 255]);
      const { url } = await serve({ '/a.yaml': res => res.end(a), '/bin/b': res => res.end(b) });
      const dest = emptyDir();
      const result = await run(httpStep([
        { url: url('/a.yaml'), path: 'app.yaml', sha256: sha256(a), mode: 0o640 },
        { url: url('/bin/b'), path: 'keys/b.bin', mode: 0o600 },
      ]), dest);
      expect(result.code).toBe(0);
      expect(fs.readFileSync(path.join(dest, 'app.yaml'), 'utf8')).toBe(a);
      expect(fs.readFileSync(path.join(dest, 'keys/b.bin'))).toEqual(b);
      expect(mode(path.join(dest, 'app.yaml'))).toBe(0o640);
      expect(mode(path.join(dest, 'keys/b.bin'))).toBe(0o600);
      expect(fs.readdirSync(dest).sort()).toEqual(['app.yaml', 'keys']);
      expect(fs.readdirSync(path.join(dest, 'keys'))).toEqual(['b.bin']);
      expect(result.lastLine).toBe(`config-fetch: done: 2 file(s) in ${OUT}`);
    });

    test('404 fails at once, naming the status and URL; nothing is written', async () => {
      const { url, counts } = await serve({});
      const dest = emptyDir();
      const result = await run(httpStep([{ url: url('/missing.yaml'), path: 'app.yaml' }]), dest);
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: failed to fetch app.yaml: HTTP 404 from ${url('/missing.yaml')}`);
      expect(counts['/missing.yaml']).toBe(1);
      expect(fs.readdirSync(dest)).toEqual([]);
    });

    test('500, then 200: retried after backing off 1 s, then 2 s', async () => {
      const at: number[] = [];
      const { url, counts } = await serve({ '/a': (res, n) => { at.push(Date.now()); res.writeHead(n < 3 ? 500 : 200); res.end(n < 3 ? 'err' : 'ok'); } });
      const dest = emptyDir();
      const result = await run(httpStep([{ url: url('/a'), path: 'a' }]), dest);
      expect(result.code).toBe(0);
      expect(counts['/a']).toBe(3);
      // The same error is reported once.
      expect(result.output.split('\n').filter(l => l.includes('retrying'))).toEqual([`config-fetch: a: HTTP 500 from ${url('/a')}; retrying`]);
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(950);
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(1950);
      expect(fs.readFileSync(path.join(dest, 'a'), 'utf8')).toBe('ok');
    });

    test('a wrong checksum fails naming both digests; no file, no temp file', async () => {
      const { url } = await serve({ '/a': res => res.end('tampered') });
      const expected = sha256('original');
      const dest = emptyDir();
      const result = await run(httpStep([{ url: url('/a'), path: 'a.conf', sha256: expected }]), dest);
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: checksum mismatch for a.conf from ${url('/a')}: expected sha256 ${expected}, got ${sha256('tampered')}`);
      expect(fs.readdirSync(dest)).toEqual([]);
    });

    test('a slow body times out within the overall timeout and leaves the old file untouched', async () => {
      const { url } = await serve({ '/slow': res => { res.writeHead(200, { 'Content-Length': '100' }); res.write('partial'); } });
      const dest = emptyDir();
      fs.writeFileSync(path.join(dest, 'a.conf'), 'old');
      const result = await run(httpStep([{ url: url('/slow'), path: 'a.conf' }], { timeout: Duration.seconds(3), attemptTimeout: Duration.seconds(1) }), dest);
      expect(result.code).toBe(1);
      expect(result.ms).toBeLessThan(6000);
      expect(result.lastLine).toMatch(/^config-fetch: failed to fetch a.conf: Operation timed out after \d+ milliseconds .* \(gave up after 3s\)$/);
      expect(fs.readdirSync(dest)).toEqual(['a.conf']);
      expect(fs.readFileSync(path.join(dest, 'a.conf'), 'utf8')).toBe('old');
    });

    test('a file already present with the pinned checksum is not fetched again', async () => {
      const { url, counts } = await serve({ '/a': res => res.end('same') });
      const container = httpStep([{ url: url('/a'), path: 'a', sha256: sha256('same'), mode: 0o600 }]);
      const dest = emptyDir();
      expect((await run(container, dest)).code).toBe(0);
      const again = await run(container, dest);
      expect(again.code).toBe(0);
      expect(again.output).toContain('a is already present');
      expect(counts['/a']).toBe(1);
    });

    test('an upper-case checksum verifies the file, and a re-run finds it present', async () => {
      const { url, counts } = await serve({ '/a': res => res.end('same') });
      const container = httpStep([{ url: url('/a'), path: 'a', sha256: sha256('same').toUpperCase() }]);
      const dest = emptyDir();
      expect((await run(container, dest)).code).toBe(0);
      const again = await run(container, dest);
      expect(again.code).toBe(0);
      expect(again.output).toContain(`a is already present (sha256 ${sha256('same')})`);
      expect(counts['/a']).toBe(1);
    });

    test('the auth header comes from a Secret: secretKeyRef in the manifest, sent over stdin at run time', async () => {
      const token = 'Bearer s3cr3t-$(id)-`id`';
      let seen: string | undefined;
      const server = await httpServer((req, res) => { seen = req.headers.authorization; res.end('ok'); });
      servers.push(server);
      const container = authStep([{ url: `http://127.0.0.1:${server.port}/a`, path: 'a' }]);
      expect(container.env.find((e: any) => e.name === 'FETCH_AUTH_VALUE')).toEqual({
        name: 'FETCH_AUTH_VALUE', valueFrom: { secretKeyRef: { name: expect.any(String), key: 'token' } },
      });
      const result = await run(container, emptyDir(), { env: { FETCH_AUTH_VALUE: token } });
      expect(result.code).toBe(0);
      expect(seen).toBe(token);
    });

    test('a redirect to another host is followed without the auth header; same-host redirects keep it', async () => {
      const tokens: Record<string, string | undefined> = {};
      const storage = await serve({ '/blob': (res, _n, req) => { tokens.storage = req.headers['private-token'] as string; res.end('release'); } });
      const origin = await serve({
        '/download': (res, _n, req) => { tokens.download = req.headers['private-token'] as string; res.writeHead(302, { Location: '/files/a' }); res.end(); },
        '/files/a': (res, _n, req) => { tokens.files = req.headers['private-token'] as string; res.writeHead(307, { Location: storage.url('/blob') }); res.end(); },
      });
      const dest = emptyDir();
      const result = await run(authStep([{ url: origin.url('/download'), path: 'a' }], 'PRIVATE-TOKEN'), dest, { env: { FETCH_AUTH_VALUE: 'glpat-secret' } });
      expect(result.code).toBe(0);
      expect(tokens).toEqual({ download: 'glpat-secret', files: 'glpat-secret', storage: undefined });
      expect(fs.readFileSync(path.join(dest, 'a'), 'utf8')).toBe('release');
    });

    test('a redirect back to the named origin gets the header again; a redirect loop fails clearly', async () => {
      const seen: Array<string | undefined> = [];
      const other = await serve({ '/hop': res => { res.writeHead(302, { Location: `http://127.0.0.1:${origin.server.port}/final` }); res.end(); } });
      const origin = await serve({
        '/start': (res, _n, req) => { seen.push(req.headers.authorization); res.writeHead(302, { Location: other.url('/hop') }); res.end(); },
        '/final': (res, _n, req) => { seen.push(req.headers.authorization); res.end('ok'); },
        '/loop': res => { res.writeHead(302, { Location: '/loop' }); res.end(); },
      });
      const dest = emptyDir();
      const ok = await run(authStep([{ url: origin.url('/start'), path: 'a' }]), dest, { env: { FETCH_AUTH_VALUE: 'Bearer t' } });
      expect(ok.code).toBe(0);
      expect(seen).toEqual(['Bearer t', 'Bearer t']);
      const loop = await run(authStep([{ url: origin.url('/loop'), path: 'b' }]), dest, { env: { FETCH_AUTH_VALUE: 'Bearer t' } });
      expect(loop.code).toBe(1);
      expect(loop.lastLine).toBe(`config-fetch: failed to fetch b: more than 10 redirects from ${origin.url('/loop')}`);
      expect(origin.counts['/loop']).toBe(11);
    });

    test.each(['https', 'HTTPS'])('a redirect from %s to http is refused, and the http server gets no request', async scheme => {
      const plain = await serve({ '/a': res => res.end('downgraded') });
      const tls = selfSignedCert();
      const server = https.createServer({ key: tls.key, cert: tls.cert }, (_req, res) => { res.writeHead(301, { Location: plain.url('/a') }); res.end(); });
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
      const sockets = new Set<net.Socket>();
      server.on('secureConnection', s => sockets.add(s));
      servers.push({ port: 0, close: () => new Promise<void>(resolve => { sockets.forEach(s => s.destroy()); server.close(() => resolve()); }) });
      const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/a`;
      const dest = emptyDir();
      // The step has no CA option: curl's CURL_CA_BUNDLE makes it trust the test's certificate.
      const result = await run(authStep([{ url: url.replace('https', scheme), path: 'a' }]), dest, {
        env: { FETCH_AUTH_VALUE: 'Bearer t', CURL_CA_BUNDLE: '/etc/test-ca/cert.pem' },
        mounts: { '/etc/test-ca': tls.dir },
      });
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: failed to fetch a: refused the redirect from ${url} to ${plain.url('/a')}: it leaves HTTPS`);
      expect(plain.counts['/a']).toBeUndefined();
      expect(fs.readdirSync(dest)).toEqual([]);
    });

    test('shell metacharacters in a URL are requested, never executed', async () => {
      const markerDir = tmpDir('inject-');
      fs.chmodSync(markerDir, 0o777);
      const marker = path.join(markerDir, 'pwned');
      const requested: string[] = [];
      const server = await httpServer((req, res) => { requested.push(req.url!); res.end('ok'); });
      servers.push(server);
      const evil = `/a$(touch$IFS${marker});touch$IFS${marker}$$(touch$IFS${marker})`;
      const result = await run(httpStep([{ url: `http://127.0.0.1:${server.port}${evil}`, path: 'a' }]), emptyDir(), { mounts: { [markerDir]: markerDir } });
      expect(result.code).toBe(0);
      expect(fs.existsSync(marker)).toBe(false);
      expect(requested).toEqual([evil]);
    });

    test('SIGTERM while retrying a 503 exits 143 within 1 s; the run writes to a scratch directory named for it', async () => {
      const { url } = await serve({ '/a.conf': res => { res.writeHead(503); res.end(); } });
      const dest = emptyDir();
      const seen: string[] = [];
      const result = await run(httpStep([{ url: url('/a.conf'), path: 'a.conf' }], { timeout: Duration.seconds(10) }), dest, { sigtermWhen: listThenSigterm(/retrying/, dest, seen) });
      expect(result.code).toBe(143);
      expect(result.exitAfterSigtermMs).toBeLessThan(1000);
      expect(result.lastLine).toBe('config-fetch: stopped by SIGTERM');
      expect(seen).toEqual([expect.stringMatching(scratchOf('a.conf'))]);
    });

    test('a replica\'s live scratch directory survives; a crashed run\'s stale one is removed', async () => {
      const { url } = await serve({ '/a': res => res.end('new') });
      const dest = emptyDir();
      const live = `.a.conf.fetch.${randomUUID()}`;
      const stale = `.a.conf.fetch.${randomUUID()}`;
      fs.mkdirSync(path.join(dest, live));
      fs.writeFileSync(path.join(dest, live, 'body'), 'in progress');
      fs.mkdirSync(path.join(dest, stale));
      fs.writeFileSync(path.join(dest, stale, 'body'), 'crashed');
      ownedByStep(path.join(dest, live));
      ownedByStep(path.join(dest, stale));
      fs.utimesSync(path.join(dest, stale), DAY_AGO, DAY_AGO);
      const result = await run(httpStep([{ url: url('/a'), path: 'a.conf' }]), dest);
      expect(result.code).toBe(0);
      expect(fs.readdirSync(dest).sort()).toEqual([live, 'a.conf'].sort());
      expect(fs.readFileSync(path.join(dest, live, 'body'), 'utf8')).toBe('in progress');
    });
  });

  describe('ConfigFetchInit from Git', () => {
    const run = (container: any, volume: string, options: RunOptions = {}) =>
      runContainer(container, { busybox: bb, tools: ['git'], volumes: { config: volume }, mounts: { [origin]: origin }, killAfterMs: 30_000, ...options });

    // A bare repository with two commits; v1 tags the first.
    const origin = tmpDir('git-');
    fs.chmodSync(origin, 0o755);
    const sh = (cmd: string, cwd = origin) => execFileSync('sh', ['-c', cmd], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    }).trim();
    sh('git init -q -b main work && cd work && mkdir -p conf && echo v1 > version && echo "a: 1" > conf/app.yaml && git add . && git commit -qm one && git tag v1');
    const first = sh('git rev-parse HEAD', path.join(origin, 'work'));
    sh('cd work && echo v2 > version && git commit -qam two && git tag v2');
    const second = sh('git rev-parse HEAD', path.join(origin, 'work'));
    sh('git clone -q --bare work config.git && cp -a config.git foreign.git');
    // The step's uid owns it (git refuses a local repository of another owner: see below).
    const repository = path.join(origin, 'config.git');
    ownedByStep(repository);

    const step = (opts: any, timeout = 10) => fetchStep(chart => ({
      source: ConfigSource.git({
        repository,
        ...opts,
        ...opts.credentials ? { credentials: { secret: new kplus.Secret(chart, 'git', {}) } } : {},
      }),
      timeout: Duration.seconds(timeout),
    })).container;

    test('a tag, into a directory named after the repository', async () => {
      const dest = emptyDir();
      const result = await run(step({ revision: 'v1' }), dest);
      expect(result.code).toBe(0);
      expect(fs.readFileSync(path.join(dest, 'config/version'), 'utf8')).toBe('v1\n');
      expect(fs.existsSync(path.join(dest, 'config/.git'))).toBe(false);
      expect(fs.readdirSync(dest)).toEqual(['config']);
      expect(result.lastLine).toBe(`config-fetch: checked out ${repository} at v1 (${first}) into config`);
    });

    test('a full commit id with a sub-path; re-running replaces the directory', async () => {
      const dest = emptyDir();
      expect((await run(step({ revision: second, directory: 'app' }), dest)).code).toBe(0);
      expect(fs.readFileSync(path.join(dest, 'app/version'), 'utf8')).toBe('v2\n');
      const result = await run(step({ revision: first, subPath: 'conf', directory: 'app' }), dest);
      expect(result.code).toBe(0);
      expect(fs.readdirSync(path.join(dest, 'app'))).toEqual(['app.yaml']);
      expect(fs.readdirSync(dest)).toEqual(['app']);
    });

    test('a nested directory: its parents are created', async () => {
      const dest = emptyDir();
      const result = await run(step({ revision: 'v2', directory: 'repos/app' }), dest);
      expect(result.code).toBe(0);
      expect(fs.readFileSync(path.join(dest, 'repos/app/version'), 'utf8')).toBe('v2\n');
      expect(fs.readdirSync(path.join(dest, 'repos'))).toEqual(['app']);
      expect(result.lastLine).toBe(`config-fetch: checked out ${repository} at v2 (${second}) into repos/app`);
    });

    test('a missing tag fails at once with a clear message', async () => {
      const dest = emptyDir();
      const result = await run(step({ revision: 'v9' }), dest);
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: git fetch failed: tag v9 not found in ${repository} (refs must be tags or full commit ids)`);
      expect(result.output).not.toContain('retrying');
      expect(fs.readdirSync(dest)).toEqual([]);
    });

    test('a branch is not a pinned revision', async () => {
      const result = await run(step({ revision: 'main' }), emptyDir());
      expect(result.code).toBe(1);
      expect(result.lastLine).toContain('tag main not found');
    });

    test('a missing commit and a missing sub-path', async () => {
      const missing = await run(step({ revision: '0'.repeat(40) }), emptyDir());
      expect(missing.lastLine).toBe(`config-fetch: git fetch failed: ref ${'0'.repeat(40)} not found in ${repository}`);
      const dest = emptyDir();
      const noSub = await run(step({ revision: 'v1', subPath: 'nope' }), dest);
      expect(noSub.code).toBe(1);
      expect(noSub.lastLine).toBe(`config-fetch: sub-path nope not found in ${repository} at v1`);
      expect(fs.readdirSync(dest)).toEqual([]);
    });

    test('over smart HTTP with credentials from a Secret; a repository the server does not have fails at once', async () => {
      const server = await gitHttpServer(origin, { auth: { username: 'ci', password: 'p$w`d' } });
      servers.push(server);
      const dest = emptyDir();
      const url = `http://127.0.0.1:${server.port}/config.git`;
      const env = { GIT_USERNAME: 'ci', GIT_PASSWORD: 'p$w`d' };
      const ok = await run(step({ repository: url, revision: 'v2', credentials: true }), dest, { env });
      expect(ok.code).toBe(0);
      expect(fs.readFileSync(path.join(dest, 'config/version'), 'utf8')).toBe('v2\n');
      const wrong = await run(step({ repository: url, revision: 'v2', credentials: true }), emptyDir(), { env: { ...env, GIT_PASSWORD: 'nope' } });
      expect(wrong.lastLine).toBe(`config-fetch: git fetch failed: authentication failed for ${url}`);
      const missingUrl = `http://127.0.0.1:${server.port}/missing.git`;
      const missing = await run(step({ repository: missingUrl, revision: 'v2', credentials: true }, 15), emptyDir(), { env });
      expect(missing.code).toBe(1);
      expect(missing.lastLine).toBe(`config-fetch: git fetch failed: repository ${missingUrl} not found`);
      expect(missing.ms).toBeLessThan(5000);
      expect(server.requests.filter(r => r.startsWith('/missing.git/info/refs'))).toHaveLength(2); // 401, then 404
    });

    test('a local path that holds no repository fails at once', async () => {
      const missing = path.join(origin, 'missing.git');
      const result = await run(step({ repository: missing, revision: 'v1' }, 15), emptyDir());
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: git fetch failed: repository ${missing} not found`);
      expect(result.ms).toBeLessThan(5000);
    });

    test('a local repository owned by another uid fails at once, saying why', async () => {
      const foreign = path.join(origin, 'foreign.git');
      const result = await run(step({ repository: foreign, revision: 'v1' }, 15), emptyDir());
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: git fetch failed: ${foreign} is owned by another user than the step's uid ${STEP_UID}, and git refuses it (safe.directory)`);
      expect(result.ms).toBeLessThan(5000);
    });

    test('SIGTERM while the remote is down exits 143 within 1 s; the run writes to a scratch directory named for it', async () => {
      const url = `http://127.0.0.1:${await freePort()}/config.git`;
      const dest = emptyDir();
      const seen: string[] = [];
      const result = await run(step({ repository: url, revision: 'v1' }), dest, { sigtermWhen: listThenSigterm(/retrying/, dest, seen) });
      expect(result.code).toBe(143);
      expect(result.exitAfterSigtermMs).toBeLessThan(1000);
      expect(result.lastLine).toBe('config-fetch: stopped by SIGTERM');
      expect(result.output).toMatch(/config-fetch: .*: unable to access .*: Failed to connect to 127.0.0.1 port \d+.*; retrying\n/);
      expect(seen).toEqual([expect.stringMatching(scratchOf('config'))]);
    });

    test('a replica\'s live scratch directory survives; a crashed run\'s stale one is removed', async () => {
      const dest = emptyDir();
      const live = `.config.fetch.${randomUUID()}`;
      const stale = `.config.fetch.${randomUUID()}`;
      fs.mkdirSync(path.join(dest, live, 'repo'), { recursive: true });
      fs.mkdirSync(path.join(dest, stale, 'repo'), { recursive: true });
      ownedByStep(path.join(dest, live));
      ownedByStep(path.join(dest, stale));
      fs.utimesSync(path.join(dest, stale), DAY_AGO, DAY_AGO);
      const result = await run(step({ revision: 'v1' }), dest);
      expect(result.code).toBe(0);
      expect(fs.readdirSync(dest).sort()).toEqual([live, 'config'].sort());
      expect(fs.readdirSync(path.join(dest, live))).toEqual(['repo']);
    });

    test('two runs at once into the same volume both succeed', async () => {
      const dest = emptyDir();
      const container = step({ revision: 'v2', subPath: 'conf' });
      const results = await Promise.all([1, 2, 3, 4].map(() => run(container, dest)));
      expect(results.map(r => [r.code, r.lastLine])).toEqual(Array(4).fill([0, `config-fetch: checked out ${repository} at v2 (${second}), sub-path conf, into config`]));
      expect(fs.readdirSync(dest)).toEqual(['config']);
      expect(fs.readdirSync(path.join(dest, 'config'))).toEqual(['app.yaml']);
    });
  });

  describe('ConfigFetchInit from templates', () => {
    function templateStep(files: any[], variables: Record<string, kplus.EnvValue>) {
      const chart = newChart();
      const cm = new kplus.ConfigMap(chart, 'templates-cm');
      const templates = new SharedVolume(chart, 'templates', { volume: kplus.Volume.fromConfigMap(chart, 'tv', cm, { name: 'templates' }) });
      const out = new SharedVolume(chart, 'rendered');
      const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(d).add(new ConfigFetchInit(chart, 'render', { source: ConfigSource.template({ templates, files, variables }), volume: out, group: 1000 }));
      return initContainersOf(synthValid(chart))[0];
    }
    const templatesDir = () => { const dir = tmpDir('tmpl-'); fs.chmodSync(dir, 0o755); return dir; };
    const run = (container: any, src: string, dest: string, env: Record<string, string> = {}) =>
      runContainer(container, { busybox: bb, volumes: { templates: src, rendered: dest }, env });

    test('substitutes only declared variables; values with $, quotes, newlines, & and \\ stay literal', async () => {
      const src = templatesDir();
      fs.writeFileSync(path.join(src, 'nginx.conf.tmpl'),
        'listen ${PORT};\nproxy_set_header Host $host;\npassword "${DB_PASSWORD}";\nkeep ${UNDECLARED} and ${PORT\nmode ${MODE:-production} ${EMPTY:-fallback}\n');
      const container = templateStep([{ template: 'nginx.conf.tmpl', path: 'nginx.conf', mode: 0o440 }], {
        PORT: kplus.EnvValue.fromValue('8080'),
        DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(newChart(), 's', 'db'), key: 'password' }),
        MODE: kplus.EnvValue.fromValue('staging'),
        EMPTY: kplus.EnvValue.fromValue(''),
      });
      expect(container.volumeMounts).toEqual([
        { name: 'rendered', mountPath: OUT, readOnly: false },
        { name: 'templates', mountPath: '/var/run/cdk8s-init/in', readOnly: true },
      ]);
      const dest = emptyDir();
      const password = 'p$a"s\'s\nw&o\\rd $(id) `id` $$ $(PORT)';
      const result = await run(container, src, dest, { DB_PASSWORD: password });
      expect(result.code).toBe(0);
      expect(fs.readFileSync(path.join(dest, 'nginx.conf'), 'utf8')).toBe(
        `listen 8080;\nproxy_set_header Host $host;\npassword "${password}";\nkeep \${UNDECLARED} and \${PORT\nmode staging fallback\n`);
      expect(mode(path.join(dest, 'nginx.conf'))).toBe(0o440);
      expect(fs.readdirSync(dest)).toEqual(['nginx.conf']);
    });

    test('keeps a missing final newline; fails clearly on a missing template', async () => {
      const src = templatesDir();
      fs.writeFileSync(path.join(src, 'greeting.tmpl'), '${GREETING}');
      fs.chmodSync(path.join(src, 'greeting.tmpl'), 0o644);
      const dest = emptyDir();
      expect((await run(templateStep([{ template: 'greeting.tmpl', path: 'greeting' }], { GREETING: kplus.EnvValue.fromValue('abc') }), src, dest)).code).toBe(0);
      expect(fs.readFileSync(path.join(dest, 'greeting'), 'utf8')).toBe('abc');
      const result = await run(templateStep([{ template: 'nope.tmpl', path: 'x' }], {}), src, dest);
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe('config-render: template nope.tmpl not found in /var/run/cdk8s-init/in');
    });
  });

  describe('ConfigFetchInit from S3', () => {
    const KEYS = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t' };
    const step = (opts: any, timeout = 10) => fetchStep(chart => ({
      source: ConfigSource.s3({ credentials: { secret: new kplus.Secret(chart, 'aws', {}) }, ...opts }),
      timeout: Duration.seconds(timeout),
    })).container;
    /** A store with the test's key pair and bucket my-bucket holding app/one.yaml and app/sub/two.yaml. */
    function store() {
      const s3 = s3StandIn();
      s3.credentials(KEYS.AWS_ACCESS_KEY_ID, KEYS.AWS_SECRET_ACCESS_KEY);
      s3.put('my-bucket', 'app/one.yaml', 'one\n');
      s3.put('my-bucket', 'app/sub/two.yaml', 'two\n');
      s3.put('my-bucket', 'app/config.yaml', 'object-body');
      return s3;
    }
    const run = (container: any, s3: S3StandIn, volume: string, options: RunOptions = {}) => runContainer(container, {
      busybox: bb, volumes: { config: volume }, mounts: s3.mounts, killAfterMs: 30_000, ...options, env: { ...KEYS, ...options.env },
    });

    test('one object, through the configured endpoint: renamed into place with its mode', async () => {
      const s3 = store();
      s3.endpoint('http://minio:9000');
      const dest = emptyDir();
      const result = await run(step({ uri: 's3://my-bucket/app/config.yaml', path: 'config.yaml', mode: 0o400, endpoint: 'http://minio:9000' }), s3, dest);
      expect(result.code).toBe(0);
      expect(result.lastLine).toBe('config-fetch: fetched s3://my-bucket/app/config.yaml into config.yaml');
      expect(fs.readFileSync(path.join(dest, 'config.yaml'), 'utf8')).toBe('object-body');
      expect(mode(path.join(dest, 'config.yaml'))).toBe(0o400);
      expect(fs.readdirSync(dest)).toEqual(['config.yaml']);
    });

    test('a prefix into a nested directory; an unreachable endpoint is retried until it answers', async () => {
      const s3 = store();
      s3.down(true);
      const dest = emptyDir();
      const result = await run(step({ uri: 's3://my-bucket/app/', path: 'conf/app' }), s3, dest, {
        sigtermWhen: onOutput(/retrying/, () => s3.down(false)),
      });
      expect(result.code).toBe(0);
      expect(result.output).toContain('config-fetch: s3://my-bucket/app/: fatal error: Could not connect to the endpoint URL: "https://s3.amazonaws.com/my-bucket/app/"; retrying');
      expect(fs.readFileSync(path.join(dest, 'conf/app/sub/two.yaml'), 'utf8')).toBe('two\n');
      expect(fs.readdirSync(path.join(dest, 'conf/app')).sort()).toEqual(['config.yaml', 'one.yaml', 'sub']);
      expect(fs.readdirSync(path.join(dest, 'conf'))).toEqual(['app']);
    });

    test('a re-run installs exactly the objects there are now; a crashed run\'s temp directory is not reused', async () => {
      const s3 = store();
      const dest = emptyDir();
      const container = step({ uri: 's3://my-bucket/app/', path: 'app' });
      expect((await run(container, s3, dest)).code).toBe(0);
      s3.delete('my-bucket', 'app/one.yaml');
      // What crashed runs left: the old script's name ($$ is 1 in every pod), and this script's, an hour later.
      for (const crashed of ['app.tmp.1', `.app.fetch.${randomUUID()}/data`]) {
        fs.mkdirSync(path.join(dest, crashed), { recursive: true });
        fs.writeFileSync(path.join(dest, crashed, 'one.yaml'), 'deleted since');
        ownedByStep(path.join(dest, crashed.split('/')[0]));
        fs.utimesSync(path.join(dest, crashed.split('/')[0]), DAY_AGO, DAY_AGO);
      }
      const result = await run(container, s3, dest);
      expect(result.code).toBe(0);
      expect(fs.readdirSync(path.join(dest, 'app')).sort()).toEqual(['config.yaml', 'sub']);
      expect(fs.readdirSync(dest).filter(f => f.startsWith('.'))).toEqual([]);
    });

    test.each([
      ['an empty prefix', 's3://my-bucket/empty/', 'no objects under the prefix "empty/" of bucket my-bucket'],
      ['a misspelled prefix', 's3://my-bucket/ap/', 'no objects under the prefix "ap/" of bucket my-bucket'],
      ['a missing key', 's3://my-bucket/app/nope.yaml', 'fatal error: An error occurred (404) when calling the HeadObject operation: Key "app/nope.yaml" does not exist'],
      ['a missing bucket', 's3://other-bucket/app/', 'fatal error: An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist'],
    ])('%s fails at once; what was installed stays', async (_what, uri, message) => {
      const s3 = store();
      fs.mkdirSync(path.join(s3.root, 'my-bucket', 'empty'));
      const dest = emptyDir();
      fs.mkdirSync(path.join(dest, 'x'));
      fs.writeFileSync(path.join(dest, 'x', 'previous.yaml'), 'previous');
      ownedByStep(path.join(dest, 'x'));
      const result = await run(step({ uri, path: 'x' }, 15), s3, dest);
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: failed to fetch ${uri}: ${message}`);
      expect(result.output).not.toContain('retrying');
      expect(result.ms).toBeLessThan(5000);
      expect(fs.readdirSync(dest)).toEqual(['x']);
      expect(fs.readdirSync(path.join(dest, 'x'))).toEqual(['previous.yaml']);
    });

    test.each([
      ['an unknown access key', { AWS_ACCESS_KEY_ID: 'AKIAOTHER' }, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'],
      ['a wrong secret key', { AWS_SECRET_ACCESS_KEY: 'wrong' }, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
      ['a bucket policy without the key', {}, 'AccessDenied', 'Access Denied'],
    ])('%s fails at once', async (what, env, code, message) => {
      const s3 = store();
      if (code === 'AccessDenied') s3.allow('my-bucket', ['AKIAOTHER']);
      const result = await run(step({ uri: 's3://my-bucket/app/', path: 'app' }, 15), s3, emptyDir(), { env });
      expect(result.code).toBe(1);
      expect(result.lastLine).toBe(`config-fetch: failed to fetch s3://my-bucket/app/: fatal error: An error occurred (${code}) when calling the ListObjectsV2 operation: ${message}`);
      expect(result.ms).toBeLessThan(5000);
      expect(what).toBeTruthy();
    });

    test('SIGTERM while the endpoint is unreachable exits 143 within 1 s; the run writes to a scratch directory named for it', async () => {
      const s3 = store();
      s3.down(true);
      const dest = emptyDir();
      const seen: string[] = [];
      const result = await run(step({ uri: 's3://my-bucket/app/', path: 'app' }), s3, dest, { sigtermWhen: listThenSigterm(/retrying/, dest, seen) });
      expect(result.code).toBe(143);
      expect(result.exitAfterSigtermMs).toBeLessThan(1000);
      expect(result.lastLine).toBe('config-fetch: stopped by SIGTERM');
      expect(seen).toEqual([expect.stringMatching(scratchOf('app'))]);
    });
  });
});

describe('ConfigFetchInit from Git: validation', () => {
  const step = (opts: any) => fetchStep(() => ({ source: ConfigSource.git({ repository: '/srv/config.git', ...opts }) })).container;
  test.each(['--upload-pack=touch /tmp/x', '-v', 'v1 v2', 'a..b', '$(id)'])('revision %j', revision => {
    expect(() => step({ revision })).toThrow(`ConfigFetchInit test/fetch-config: revision ${JSON.stringify(revision)} is not a valid tag name or commit id`);
  });
  test('an abbreviated commit id', () => {
    expect(() => step({ revision: '0123456789ab' })).toThrow('looks like an abbreviated commit id; give all 40 hex digits');
  });
  test.each(['ext::sh -c touch% /tmp/pwned', '-oProxyCommand=x', 'https://u:p@git.example.com/r.git', 'relative/repo'])('repository %j', repo => {
    expect(() => fetchStep(() => ({ source: ConfigSource.git({ repository: repo, revision: 'v1' }) }))).toThrow(/ConfigFetchInit test\/fetch-config: (URL|repository path)/);
  });
  test('an upper-case scheme is accepted and given to git in lower case; ssh URLs keep their user', () => {
    const env = (repository: string) => Object.fromEntries(step({ repository, revision: 'v1' }).env.map((e: any) => [e.name, e.value]));
    expect(env('HTTPS://Git.Example.com/web/site.git').GIT_REPOSITORY).toBe('https://Git.Example.com/web/site.git');
    expect(env('ssh://git@git.example.com:2222/web/site.git').GIT_REPOSITORY).toBe('ssh://git@git.example.com:2222/web/site.git');
    expect(env('file:///srv/site.git').GIT_DIRECTORY).toBe('site');
  });
  test.each([
    ['https://git.example.com:0/r.git', 'port "0" is not an integer from 1 to 65535'],
    ['ssh://git@git.example.com:65536/r.git', 'port "65536" is not an integer from 1 to 65535'],
    ['https://999.1.1.1/r.git', 'host "999.1.1.1" is not a valid IP address'],
  ])('repository %j', (repository, message) => {
    expect(() => step({ repository, revision: 'v1' })).toThrow(`ConfigFetchInit test/fetch-config: URL ${JSON.stringify(repository)}: ${message}`);
  });
  test.each([['usernameKey', '$(id)'], ['passwordKey', '']])('credentials.%s %j', (field, key) => {
    expect(() => fetchStep(chart => ({
      source: ConfigSource.git({ repository: '/srv/config.git', revision: 'v1', credentials: { secret: new kplus.Secret(chart, 'git'), [field]: key } }),
    }))).toThrow(`ConfigFetchInit test/fetch-config: credentials.${field} ${JSON.stringify(key)} is not a valid Secret key`);
  });
});

describe('ConfigFetchInit from templates: validation', () => {
  function templateStep(variables: Record<string, kplus.EnvValue>, files = [{ template: 'a', path: 'a' }]) {
    const chart = newChart();
    const cm = new kplus.ConfigMap(chart, 'templates-cm');
    const templates = new SharedVolume(chart, 'templates', { volume: kplus.Volume.fromConfigMap(chart, 'tv', cm, { name: 'templates' }) });
    const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(d).add(new ConfigFetchInit(chart, 'render', {
      source: ConfigSource.template({ templates, files, variables }),
      volume: new SharedVolume(chart, 'rendered'),
    }));
    return synthValid(chart);
  }
  test('reserved variable names are refused', () => {
    expect(() => templateStep({ PATH: kplus.EnvValue.fromValue('/x') })).toThrow('ConfigFetchInit test/render: template variable PATH is reserved; rename it');
  });
  test.each(['RANDOM', 'PPID', 'OPTIND', 'IFS', 'RUN_ID', 'DEADLINE_MS', 'RENDER_FILES', 'FETCH_TIMEOUT'])('%s, which the shell or the script owns, is refused', name => {
    expect(() => templateStep({ [name]: kplus.EnvValue.fromValue('x') })).toThrow(`ConfigFetchInit test/render: template variable ${name} is reserved; rename it`);
  });
  test('one output inside another', () => {
    expect(() => templateStep({}, [{ template: 'a', path: 'nginx' }, { template: 'b', path: 'nginx/site.conf' }]))
      .toThrow('ConfigFetchInit test/render: paths "nginx" and "nginx/site.conf" overlap: "nginx/site.conf" is inside "nginx"');
  });
  test('a Secret key the API server rejects', () => {
    const secret = kplus.Secret.fromSecretName(newChart(), 's', 'db');
    expect(() => templateStep({ DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: '$(id)' }) }))
      .toThrow('ConfigFetchInit test/render: environment variable DB_PASSWORD: key "$(id)" is not a valid Secret key');
  });
  test('a literal secret as a template variable is refused', () => {
    expect(() => templateStep({ DB_PASSWORD: kplus.EnvValue.fromValue('hunter2') }))
      .toThrow(/environment variable DB_PASSWORD has a literal value; secrets must come from a Secret/);
  });
});

describe('ConfigFetchInit from S3: manifest and validation', () => {
  const step = (opts: any) => fetchStep(chart => ({ source: ConfigSource.s3({ credentials: { secret: new kplus.Secret(chart, 'aws', {}) }, ...opts }) })).container;

  test('manifest: aws-cli image, credentials via secretKeyRef, region and endpoint', () => {
    const c = step({ uri: 's3://my-bucket/app/config.yaml', path: 'config.yaml', region: 'eu-west-1', endpoint: 'http://minio:9000' });
    expect(c.image).toBe('amazon/aws-cli:2.17.0');
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      S3_URI: 's3://my-bucket/app/config.yaml',
      S3_PATH: 'config.yaml',
      S3_MODE: '0644',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://minio:9000',
      AWS_ACCESS_KEY_ID: { secretKeyRef: { name: expect.any(String), key: 'AWS_ACCESS_KEY_ID' } },
      AWS_SECRET_ACCESS_KEY: { secretKeyRef: { name: expect.any(String), key: 'AWS_SECRET_ACCESS_KEY' } },
    });
  });

  test.each(['s3://B/x', 'https://bucket/x', 's3://bucket/a b', 's3://bucket/$(id)'])('uri %j is refused', uri => {
    expect(() => step({ uri, path: 'x' })).toThrow(`ConfigFetchInit test/fetch-config: uri ${JSON.stringify(uri)} must be s3://bucket/key`);
  });

  test('an endpoint with a port out of range; an upper-case scheme is taken in lower case', () => {
    expect(() => step({ uri: 's3://my-bucket/a', path: 'a', endpoint: 'http://minio:65536' }))
      .toThrow('ConfigFetchInit test/fetch-config: URL "http://minio:65536": port "65536" is not an integer from 1 to 65535');
    const c = step({ uri: 's3://my-bucket/a', path: 'a', endpoint: 'HTTP://minio:9000' });
    expect(c.env.find((e: any) => e.name === 'AWS_ENDPOINT_URL').value).toBe('http://minio:9000');
  });

  test.each([['accessKeyIdKey', 'AWS ACCESS'], ['secretAccessKeyKey', '..']])('credentials.%s %j', (field, key) => {
    expect(() => fetchStep(chart => ({
      source: ConfigSource.s3({ uri: 's3://my-bucket/a', path: 'a', credentials: { secret: new kplus.Secret(chart, 'aws'), [field]: key } }),
    }))).toThrow(`ConfigFetchInit test/fetch-config: credentials.${field} ${JSON.stringify(key)} is not a valid Secret key`);
  });
});

describe('ConfigFetchInit: the app can read what it fetched', () => {
  /** A Deployment whose app (uid 1000, `group`) mounts the volume a template step renders with `fileMode`. */
  function rendered(fileMode: number, options: { group?: number; appGroup?: number; mountAfter?: boolean } = {}) {
    const chart = newChart();
    const cm = new kplus.ConfigMap(chart, 'templates-cm');
    const templates = new SharedVolume(chart, 'templates', { volume: kplus.Volume.fromConfigMap(chart, 'tv', cm, { name: 'templates' }) });
    const out = new SharedVolume(chart, 'rendered');
    const d = new kplus.Deployment(chart, 'app', {
      containers: [{ name: 'app', image: 'app:1.0', securityContext: { user: 1000, group: options.appGroup } }],
    });
    if (!options.mountAfter) out.mount(d.containers[0], '/etc/app');
    InitSequence.of(d).add(new ConfigFetchInit(chart, 'render', {
      source: ConfigSource.template({ templates, files: [{ template: 'a.tmpl', path: 'a.conf', mode: fileMode }], variables: {} }),
      volume: out,
      group: options.group,
    }));
    if (options.mountAfter) out.mount(d.containers[0], '/etc/app');
    return () => podSpecOf(synthValid(chart).find(o => o.kind === 'Deployment'));
  }

  test('a file only its group reads makes the app\'s group the pod\'s fsGroup', () => {
    expect(rendered(0o440, { appGroup: 3000 })().securityContext.fsGroup).toBe(3000);
  });

  test('an explicit group becomes the fsGroup', () => {
    expect(rendered(0o440, { group: 4000 })().securityContext.fsGroup).toBe(4000);
  });

  test('files others may read need no fsGroup', () => {
    expect(rendered(0o644)().securityContext.fsGroup).toBeUndefined();
  });

  test('with no group known, synthesis fails naming the step, the file, its owner and mode, and the fixes', () => {
    expect(() => rendered(0o440)()).toThrow(
      'ConfigFetchInit test/render: the app in workload test/app could not read rendered/a.conf, a file owned by uid 65532 with mode 0440: ' +
      'the pod has no fsGroup and the app containers that mount volume "rendered" (app) set no run-as group. Give the step a `group`');
    expect(() => rendered(0o440, { appGroup: 3000, mountAfter: true })()).toThrow('run as group 3000, but mounted it after the step was added');
  });

  test('a group that the mode does not let read, or a gid out of range, is refused at once', () => {
    expect(() => rendered(0o400, { group: 4000 })).toThrow('ConfigFetchInit test/render: the mode of a.conf does not let group 4000 read it');
    expect(() => rendered(0o440, { group: -1 })).toThrow('ConfigFetchInit test/render: group -1 is not a valid gid; give an integer from 0 to 2147483647');
  });
});
