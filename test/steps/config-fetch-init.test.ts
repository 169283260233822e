import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ConfigFetchInit, ConfigFetchInitProps, ConfigSource, InitSequence, SharedVolume } from '../../src';
import { runContainer, RunResult, toolPath } from '../util/busybox';
import { newChart } from '../util/fixtures';
import { initContainersOf, podSpecOf, synthValid } from '../util/manifest';
import { httpServer, LocalServer } from '../util/servers';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const tmpDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const mode = (file: string) => fs.statSync(file).mode % 0o1000;
const lastLine = (r: RunResult) => r.output.trim().split('\n').pop();

/** Synthesizes a Deployment with one ConfigFetchInit writing `config` and returns [container, pod spec]. */
function fetchStep(props: (chart: any, config: SharedVolume) => Omit<ConfigFetchInitProps, 'volume'>): { container: any; spec: any } {
  const chart = newChart();
  const config = new SharedVolume(chart, 'config');
  const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
  InitSequence.of(d).add(new ConfigFetchInit(chart, 'fetch-config', { ...props(chart, config), volume: config }));
  config.mount(d.containers[0], '/etc/app');
  const spec = podSpecOf(synthValid(chart).find(o => o.kind === 'Deployment'));
  return { container: spec.initContainers[0], spec };
}

const servers: LocalServer[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map(s => s.close())); });

describe('ConfigFetchInit over HTTP(S)', () => {
  const curl = toolPath('curl');
  const run = (container: any, dest: string, env: Record<string, string> = {}) =>
    runContainer(container, { env: { FETCH_DEST: dest, ...env }, extraPath: [curl], killAfterMs: 30_000 });

  async function serve(routes: Record<string, (res: any, n: number) => void>) {
    const counts: Record<string, number> = {};
    const server = await httpServer((req, res) => {
      const route = routes[req.url!];
      counts[req.url!] = (counts[req.url!] ?? 0) + 1;
      if (route) {route(res, counts[req.url!]);} else { res.writeHead(404); res.end('no'); }
    });
    servers.push(server);
    return { url: (p: string) => `http://127.0.0.1:${server.port}${p}`, server, counts };
  }

  test('manifest: curl image, restricted, volume read-write in the step and read-only in the app', () => {
    const { container, spec } = fetchStep(() => ({ source: ConfigSource.http({ files: [{ url: 'https://config.example.com/app.yaml', path: 'app.yaml' }] }) }));
    expect(container.image).toBe('curlimages/curl:8.11.1');
    expect(container.volumeMounts).toEqual([{ name: 'config', mountPath: '/var/run/cdk8s-init/out', readOnly: false }]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'config', mountPath: '/etc/app', readOnly: true }]);
    expect(container.env.find((e: any) => e.name === 'FETCH_FILES').value).toBe('app.yaml 0644 - https://config.example.com/app.yaml');
  });

  test('fetches several files with modes and verified checksums', async () => {
    const a = 'listen: 8080\n';
    const b = Buffer.from([0, 1, 2, 255]);
    const { url } = await serve({ '/a.yaml': res => res.end(a), '/bin/b': res => res.end(b) });
    const { container } = fetchStep(() => ({
      source: ConfigSource.http({
        files: [
          { url: url('/a.yaml'), path: 'app.yaml', sha256: sha256(a), mode: 0o640 },
          { url: url('/bin/b'), path: 'keys/b.bin', mode: 0o600 },
        ],
      }),
    }));
    const dest = tmpDir('fetch-');
    const result = await run(container, dest);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(dest, 'app.yaml'), 'utf8')).toBe(a);
    expect(fs.readFileSync(path.join(dest, 'keys/b.bin'))).toEqual(b);
    expect(mode(path.join(dest, 'app.yaml'))).toBe(0o640);
    expect(mode(path.join(dest, 'keys/b.bin'))).toBe(0o600);
    expect(fs.readdirSync(dest).sort()).toEqual(['app.yaml', 'keys']);
    expect(lastLine(result)).toBe(`config-fetch: done: 2 file(s) in ${dest}`);
  });

  test('404 fails at once, naming the status and URL; nothing is written', async () => {
    const { url, counts } = await serve({});
    const { container } = fetchStep(() => ({ source: ConfigSource.http({ files: [{ url: url('/missing.yaml'), path: 'app.yaml' }] }) }));
    const dest = tmpDir('fetch-');
    const result = await run(container, dest);
    expect(result.code).toBe(1);
    expect(lastLine(result)).toBe(`config-fetch: failed to fetch app.yaml: HTTP 404 from ${url('/missing.yaml')}`);
    expect(counts['/missing.yaml']).toBe(1);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  test('500, then 200: retried with backoff', async () => {
    const { url, counts } = await serve({ '/a': (res, n) => { res.writeHead(n < 3 ? 500 : 200); res.end(n < 3 ? 'err' : 'ok'); } });
    const { container } = fetchStep(() => ({ source: ConfigSource.http({ files: [{ url: url('/a'), path: 'a' }] }) }));
    const dest = tmpDir('fetch-');
    const result = await run(container, dest);
    expect(result.code).toBe(0);
    expect(counts['/a']).toBe(3);
    expect(result.output).toContain(`config-fetch: a: HTTP 500 from ${url('/a')}; retrying in 1s`);
    expect(result.output).toContain('retrying in 2s');
    expect(fs.readFileSync(path.join(dest, 'a'), 'utf8')).toBe('ok');
  });

  test('a wrong checksum fails naming both digests; no file, no temp file', async () => {
    const { url } = await serve({ '/a': res => res.end('tampered') });
    const expected = sha256('original');
    const { container } = fetchStep(() => ({ source: ConfigSource.http({ files: [{ url: url('/a'), path: 'a.conf', sha256: expected }] }) }));
    const dest = tmpDir('fetch-');
    const result = await run(container, dest);
    expect(result.code).toBe(1);
    expect(lastLine(result)).toBe(`config-fetch: checksum mismatch for a.conf from ${url('/a')}: expected sha256 ${expected}, got ${sha256('tampered')}`);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  test('a slow body times out within the overall timeout and leaves the old file untouched', async () => {
    const { url } = await serve({ '/slow': res => { res.writeHead(200, { 'Content-Length': '100' }); res.write('partial'); } });
    const { container } = fetchStep(() => ({
      source: ConfigSource.http({ files: [{ url: url('/slow'), path: 'a.conf' }] }),
      timeout: Duration.seconds(3),
      attemptTimeout: Duration.seconds(1),
    }));
    const dest = tmpDir('fetch-');
    fs.writeFileSync(path.join(dest, 'a.conf'), 'old');
    const result = await run(container, dest);
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(6000);
    expect(lastLine(result)).toMatch(/^config-fetch: failed to fetch a.conf: Operation timed out after \d+ milliseconds .* \(gave up after 3s\)$/);
    expect(fs.readdirSync(dest)).toEqual(['a.conf']);
    expect(fs.readFileSync(path.join(dest, 'a.conf'), 'utf8')).toBe('old');
  });

  test('a file already present with the pinned checksum is not fetched again', async () => {
    const { url, counts } = await serve({ '/a': res => res.end('same') });
    const { container } = fetchStep(() => ({ source: ConfigSource.http({ files: [{ url: url('/a'), path: 'a', sha256: sha256('same'), mode: 0o600 }] }) }));
    const dest = tmpDir('fetch-');
    expect((await run(container, dest)).code).toBe(0);
    const again = await run(container, dest);
    expect(again.code).toBe(0);
    expect(again.output).toContain('a is already present');
    expect(counts['/a']).toBe(1);
  });

  test('the auth header comes from a Secret: secretKeyRef in the manifest, sent over stdin at run time', async () => {
    const token = 'Bearer s3cr3t-$(id)-`id`';
    let seen: string | undefined;
    const server = await httpServer((req, res) => { seen = req.headers.authorization; res.end('ok'); });
    servers.push(server);
    const { container } = fetchStep(chart => ({
      source: ConfigSource.http({
        files: [{ url: `http://127.0.0.1:${server.port}/a`, path: 'a' }],
        authHeader: { secret: new kplus.Secret(chart, 'token', {}), key: 'token' },
      }),
    }));
    expect(container.env.find((e: any) => e.name === 'FETCH_AUTH_VALUE')).toEqual({
      name: 'FETCH_AUTH_VALUE', valueFrom: { secretKeyRef: { name: expect.any(String), key: 'token' } },
    });
    const result = await run(container, tmpDir('fetch-'), { FETCH_AUTH_VALUE: token });
    expect(result.code).toBe(0);
    expect(seen).toBe(token);
  });

  test('shell metacharacters in a URL are requested, never executed', async () => {
    const marker = path.join(tmpDir('inject-'), 'pwned');
    const requested: string[] = [];
    const server = await httpServer((req, res) => { requested.push(req.url!); res.end('ok'); });
    servers.push(server);
    const evil = `/a$(touch$IFS${marker});touch$IFS${marker}`;
    const { container } = fetchStep(() => ({ source: ConfigSource.http({ files: [{ url: `http://127.0.0.1:${server.port}${evil}`, path: 'a' }] }) }));
    const result = await run(container, tmpDir('fetch-'));
    expect(result.code).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
    expect(requested).toEqual([evil]);
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
      expect(make([{ url: 'http://x/a', path: 'a', sha256: 'ABC' }])).toThrow('sha256 "ABC" of a is not 64 lowercase hex digits');
    });
    test('a bad mode', () => {
      expect(make([{ url: 'http://x/a', path: 'a', mode: 0o1777 }])).toThrow('mode 1023 is not a file mode from 0o000 to 0o777');
    });
    test('the same path twice', () => {
      expect(make([{ url: 'http://x/a', path: 'a' }, { url: 'http://x/b', path: 'a' }])).toThrow('path "a" is given twice');
    });
  });
});

describe('ConfigFetchInit from Git', () => {
  const git = toolPath('git');
  const run = (container: any, dest: string) => runContainer(container, { env: { FETCH_DEST: dest }, extraPath: [git], killAfterMs: 30_000 });

  // A bare repository with two commits; v1 tags the first.
  const origin = tmpDir('git-');
  const sh = (cmd: string, cwd = origin) => execFileSync('sh', ['-c', cmd], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  }).trim();
  sh('git init -q -b main work && cd work && mkdir -p conf && echo v1 > version && echo "a: 1" > conf/app.yaml && git add . && git commit -qm one && git tag v1');
  const first = sh('git rev-parse HEAD', path.join(origin, 'work'));
  sh('cd work && echo v2 > version && git commit -qam two && git tag v2');
  const second = sh('git rev-parse HEAD', path.join(origin, 'work'));
  sh('git clone -q --bare work config.git');
  const repository = path.join(origin, 'config.git');

  const step = (opts: any) => fetchStep(() => ({ source: ConfigSource.git({ repository, ...opts }), timeout: Duration.seconds(10) })).container;

  test('a tag, into a directory named after the repository', async () => {
    const dest = tmpDir('git-dest-');
    const result = await run(step({ ref: 'v1' }), dest);
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(dest, 'config/version'), 'utf8')).toBe('v1\n');
    expect(fs.existsSync(path.join(dest, 'config/.git'))).toBe(false);
    expect(fs.readdirSync(dest)).toEqual(['config']);
    expect(lastLine(result)).toBe(`config-fetch: checked out ${repository} at v1 (${first}) into config`);
  });

  test('a full commit id with a sub-path; re-running replaces the directory', async () => {
    const dest = tmpDir('git-dest-');
    expect((await run(step({ ref: second, directory: 'app' }), dest)).code).toBe(0);
    expect(fs.readFileSync(path.join(dest, 'app/version'), 'utf8')).toBe('v2\n');
    const result = await run(step({ ref: first, subPath: 'conf', directory: 'app' }), dest);
    expect(result.code).toBe(0);
    expect(fs.readdirSync(path.join(dest, 'app'))).toEqual(['app.yaml']);
    expect(fs.readdirSync(dest)).toEqual(['app']);
  });

  test('a missing tag fails at once with a clear message', async () => {
    const dest = tmpDir('git-dest-');
    const result = await run(step({ ref: 'v9' }), dest);
    expect(result.code).toBe(1);
    expect(lastLine(result)).toBe(`config-fetch: git fetch failed: tag v9 not found in ${repository} (refs must be tags or full commit ids)`);
    expect(result.output).not.toContain('retrying');
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  test('a branch is not a pinned ref', async () => {
    const result = await run(step({ ref: 'main' }), tmpDir('git-dest-'));
    expect(result.code).toBe(1);
    expect(lastLine(result)).toContain('tag main not found');
  });

  test('a missing commit and a missing sub-path', async () => {
    const missing = await run(step({ ref: '0'.repeat(40) }), tmpDir('git-dest-'));
    expect(lastLine(missing)).toBe(`config-fetch: git fetch failed: ref ${'0'.repeat(40)} not found in ${repository}`);
    const noSub = await run(step({ ref: 'v1', subPath: 'nope' }), tmpDir('git-dest-'));
    expect(noSub.code).toBe(1);
    expect(lastLine(noSub)).toBe(`config-fetch: sub-path nope not found in ${repository} at v1`);
  });

  describe('bad input fails at synth time', () => {
    test.each(['--upload-pack=touch /tmp/x', '-v', 'v1 v2', 'a..b', '$(id)'])('ref %j', ref => {
      expect(() => step({ ref })).toThrow(`ConfigFetchInit test/fetch-config: ref ${JSON.stringify(ref)} is not a valid tag name or commit id`);
    });
    test('an abbreviated commit id', () => {
      expect(() => step({ ref: first.slice(0, 12) })).toThrow('looks like an abbreviated commit id; give all 40 hex digits');
    });
    test.each(['ext::sh -c touch% /tmp/pwned', '-oProxyCommand=x', 'https://u:p@git.example.com/r.git', 'relative/repo'])('repository %j', repo => {
      expect(() => fetchStep(() => ({ source: ConfigSource.git({ repository: repo, ref: 'v1' }) }))).toThrow(/ConfigFetchInit test\/fetch-config: (URL|repository path)/);
    });
  });
});

describe('ConfigFetchInit from templates', () => {
  function templateStep(files: any[], variables: Record<string, kplus.EnvValue>) {
    const chart = newChart();
    const cm = new kplus.ConfigMap(chart, 'templates-cm');
    const templates = new SharedVolume(chart, 'templates', { volume: kplus.Volume.fromConfigMap(chart, 'tv', cm, { name: 'templates' }) });
    const out = new SharedVolume(chart, 'rendered');
    const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(d).add(new ConfigFetchInit(chart, 'render', { source: ConfigSource.template({ templates, files, variables }), volume: out }));
    return initContainersOf(synthValid(chart))[0];
  }

  test('substitutes only declared variables; values with $, quotes, newlines, & and \\ stay literal', async () => {
    const src = tmpDir('tmpl-');
    fs.writeFileSync(path.join(src, 'nginx.conf.tmpl'),
      'listen ${PORT};\nproxy_set_header Host $host;\npassword "${DB_PASSWORD}";\nkeep ${UNDECLARED} and ${PORT\nmode ${MODE:-production} ${EMPTY:-fallback}\n');
    const container = templateStep([{ template: 'nginx.conf.tmpl', path: 'nginx.conf', mode: 0o440 }], {
      PORT: kplus.EnvValue.fromValue('8080'),
      DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(newChart(), 's', 'db'), key: 'password' }),
      MODE: kplus.EnvValue.fromValue('staging'),
      EMPTY: kplus.EnvValue.fromValue(''),
    });
    expect(container.volumeMounts).toEqual([
      { name: 'rendered', mountPath: '/var/run/cdk8s-init/out', readOnly: false },
      { name: 'templates', mountPath: '/var/run/cdk8s-init/in', readOnly: true },
    ]);
    const dest = tmpDir('out-');
    const password = 'p$a"s\'s\nw&o\\rd $(id) `id`';
    const result = await runContainer(container, { env: { FETCH_DEST: dest, RENDER_SRC: src, DB_PASSWORD: password } });
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(dest, 'nginx.conf'), 'utf8')).toBe(
      `listen 8080;\nproxy_set_header Host $host;\npassword "${password}";\nkeep \${UNDECLARED} and \${PORT\nmode staging fallback\n`);
    expect(mode(path.join(dest, 'nginx.conf'))).toBe(0o440);
    expect(fs.readdirSync(dest)).toEqual(['nginx.conf']);
  });

  test('keeps a missing final newline; fails clearly on a missing template', async () => {
    const src = tmpDir('tmpl-');
    fs.writeFileSync(path.join(src, 'greeting.tmpl'), '${GREETING}');
    const container = templateStep([{ template: 'greeting.tmpl', path: 'greeting' }], { GREETING: kplus.EnvValue.fromValue('abc') });
    const dest = tmpDir('out-');
    expect((await runContainer(container, { env: { FETCH_DEST: dest, RENDER_SRC: src } })).code).toBe(0);
    expect(fs.readFileSync(path.join(dest, 'greeting'), 'utf8')).toBe('abc');
    const missing = templateStep([{ template: 'nope.tmpl', path: 'x' }], {});
    const result = await runContainer(missing, { env: { FETCH_DEST: dest, RENDER_SRC: src } });
    expect(result.code).toBe(1);
    expect(lastLine(result)).toBe(`config-render: template nope.tmpl not found in ${src}`);
  });

  test('reserved variable names are refused', () => {
    expect(() => templateStep([{ template: 'a', path: 'a' }], { PATH: kplus.EnvValue.fromValue('/x') }))
      .toThrow('ConfigFetchInit test/render: template variable PATH is reserved; rename it');
  });

  test('a literal secret as a template variable is refused', () => {
    expect(() => templateStep([{ template: 'a', path: 'a' }], { DB_PASSWORD: kplus.EnvValue.fromValue('hunter2') }))
      .toThrow(/environment variable DB_PASSWORD has a literal value; secrets must come from a Secret/);
  });
});

describe('ConfigFetchInit from S3', () => {
  /** A stand-in `aws` CLI: records its arguments and acts like `aws s3 cp|sync`, or fails as told. */
  function fakeAws(behaviour: string): string {
    const dir = tmpDir('aws-');
    fs.writeFileSync(path.join(dir, 'aws'), `#!/bin/sh
echo "$@" >> "${dir}/calls"
case "${behaviour}" in
  notfound) echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key \\"$4\\" does not exist" >&2; exit 1 ;;
  flaky) [ -f "${dir}/failed" ] || { touch "${dir}/failed"; echo "Could not connect to the endpoint URL" >&2; exit 255; } ;;
esac
case "$2" in
  cp) printf 'object-body' > "$6" ;;
  sync) mkdir -p "$6/sub" && echo one > "$6/one.yaml" && echo two > "$6/sub/two.yaml" ;;
esac
`, { mode: 0o755 });
    return dir;
  }

  const AWS_SECRET_ENV = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
  const step = (opts: any) => fetchStep(chart => ({
    source: ConfigSource.s3({ credentials: { secret: new kplus.Secret(chart, 'aws', {}) }, ...opts }),
    timeout: Duration.seconds(10),
  })).container;

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

  test('one object: `aws s3 cp` to a temp name, then renamed with its mode', async () => {
    const aws = fakeAws('ok');
    const dest = tmpDir('s3-');
    const result = await runContainer(step({ uri: 's3://my-bucket/app/config.yaml', path: 'config.yaml', mode: 0o400 }), { env: { FETCH_DEST: dest, ...AWS_SECRET_ENV }, extraPath: [aws] });
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(aws, 'calls'), 'utf8')).toMatch(/^s3 cp --only-show-errors --no-progress s3:\/\/my-bucket\/app\/config.yaml .*\/config.yaml.tmp.\d+\n$/);
    expect(fs.readFileSync(path.join(dest, 'config.yaml'), 'utf8')).toBe('object-body');
    expect(mode(path.join(dest, 'config.yaml'))).toBe(0o400);
    expect(fs.readdirSync(dest)).toEqual(['config.yaml']);
  });

  test('a prefix: `aws s3 sync` into a directory; a transient error is retried', async () => {
    const aws = fakeAws('flaky');
    const dest = tmpDir('s3-');
    const result = await runContainer(step({ uri: 's3://my-bucket/app/', path: 'app' }), { env: { FETCH_DEST: dest, ...AWS_SECRET_ENV }, extraPath: [aws] });
    expect(result.code).toBe(0);
    expect(result.output).toContain('Could not connect to the endpoint URL; retrying in 1s');
    expect(fs.readFileSync(path.join(dest, 'app/sub/two.yaml'), 'utf8')).toBe('two\n');
  });

  test('a missing key fails at once', async () => {
    const aws = fakeAws('notfound');
    const dest = tmpDir('s3-');
    const result = await runContainer(step({ uri: 's3://my-bucket/nope.yaml', path: 'x' }), { env: { FETCH_DEST: dest, ...AWS_SECRET_ENV }, extraPath: [aws] });
    expect(result.code).toBe(1);
    expect(lastLine(result)).toMatch(/^config-fetch: failed to fetch s3:\/\/my-bucket\/nope.yaml: fatal error: An error occurred \(404\)/);
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  test.each(['s3://B/x', 'https://bucket/x', 's3://bucket/a b', 's3://bucket/$(id)'])('uri %j is refused', uri => {
    expect(() => step({ uri, path: 'x' })).toThrow(`ConfigFetchInit test/fetch-config: uri ${JSON.stringify(uri)} must be s3://bucket/key`);
  });
});
