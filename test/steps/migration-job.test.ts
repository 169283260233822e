import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  ConfigFetchInit, ConfigSource, DatabaseConnection, DatabaseProxy, InitSequence, KubernetesTarget, MigrationJob, MigrationJobProps, MigrationSource,
  MigrationTool, SharedVolume, StepSecurity,
} from '../../src';
import { describeContainers, emptyDir, forEachBusybox, runContainer, RunOptions } from '../util/container';
import { newChart } from '../util/fixtures';
import { podSpecOf, synthValid } from '../util/manifest';
import { startPostgres } from '../util/postgres';
import { freePort } from '../util/servers';

const FILES = { 'V1__customers.sql': 'CREATE TABLE customers (id int PRIMARY KEY);' };

interface Variant {
  /** Props over the baseline (Flyway, migrations from the ConfigMap "sql"). */
  readonly props?: (chart: Chart, credentials: kplus.Secret) => Partial<MigrationJobProps>;
  /** The ConfigMap's data. */
  readonly files?: Record<string, string>;
}

/** Synthesizes a MigrationJob with an app waiting for it; returns the Job's name, checked against every place it appears. */
function jobName(variant: Variant = {}): string {
  const chart = newChart();
  const sql = new kplus.ConfigMap(chart, 'sql', { data: variant.files ?? FILES });
  const credentials = new kplus.Secret(chart, 'db', {});
  const schema = new MigrationJob(chart, 'schema', {
    tool: MigrationTool.flyway(),
    database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials }),
    migrations: MigrationSource.fromConfigMap(sql),
    ...variant.props?.(chart, credentials),
  });
  const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(web).add(schema.waitStep(chart, 'wait-for-schema'));
  const objects = synthValid(chart);
  const name = objects.find(o => o.kind === 'Job').metadata.name;
  expect(name).toMatch(/^schema-[0-9a-f]{8}$/);
  expect(schema.job.name).toBe(name);
  const wait = podSpecOf(objects.find(o => o.kind === 'Deployment')).initContainers[0];
  expect(wait.env).toContainEqual({ name: 'JOB_NAME', value: name });
  expect(objects.find(o => o.kind === 'Role').rules[0].resourceNames).toEqual([name]);
  return name;
}

describe('MigrationJob name: changes with anything that defines the pod or the migrations, and only then', () => {
  const baseline = jobName();

  test('the same input gives the same name, synth after synth', () => {
    expect(jobName()).toBe(baseline);
    expect(jobName()).toBe(baseline);
  });

  test.each<[string, Variant]>([
    ['a migration file added to the ConfigMap', { files: { ...FILES, 'V2__orders.sql': 'CREATE TABLE orders (id int);' } }],
    ['a migration file edited', { files: { 'V1__customers.sql': 'CREATE TABLE customers (id bigint PRIMARY KEY);' } }],
    ['image', { props: () => ({ image: 'ghcr.io/example/flyway-migrations:1.0.0' }) }],
    ['tool', { props: () => ({ tool: MigrationTool.liquibase() }) }],
    ['database name', { props: (_chart, credentials) => ({ database: new DatabaseConnection({ host: 'postgres', database: 'billing', credentials }) }) }],
    ['database host', { props: (_chart, credentials) => ({ database: new DatabaseConnection({ host: 'postgres.data.svc', database: 'shop', credentials }) }) }],
    ['sslMode', { props: (_chart, credentials) => ({ database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials, sslMode: 'require' }) }) }],
    ['credentials Secret', { props: (chart) => ({ database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'other-db', {}) }) }) }],
    ['credential key', { props: (_chart, credentials) => ({ database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials, passwordKey: 'pw' }) }) }],
    ['migrations source', { props: () => ({ migrations: MigrationSource.inImage('/app/sql'), image: 'ghcr.io/example/flyway-migrations:1.0.0' }) }],
    ['resources', { props: () => ({ resources: { memory: { limit: Size.gibibytes(1) } } }) }],
    ['security', { props: () => ({ security: StepSecurity.restricted({ user: 1000, group: 1000 }) }) }],
    ['imagePullPolicy', { props: () => ({ imagePullPolicy: kplus.ImagePullPolicy.ALWAYS }) }],
    ['container name', { props: () => ({ name: 'flyway' }) }],
    ['waitTimeout', { props: () => ({ waitTimeout: Duration.minutes(1) }) }],
    ['waitForDatabase', { props: () => ({ waitForDatabase: false }) }],
    ['backoffLimit', { props: () => ({ backoffLimit: 2 }) }],
    ['activeDeadline', { props: () => ({ activeDeadline: Duration.hours(1) }) }],
    ['serviceAccount', { props: (chart) => ({ serviceAccount: new kplus.ServiceAccount(chart, 'migrator') }) }],
    ['initSteps', {
      props: (chart) => ({
        initSteps: [new ConfigFetchInit(chart, 'fetch-seed', {
          volume: new SharedVolume(chart, 'seed'),
          source: ConfigSource.git({ repository: 'https://git.example.com/seed.git', revision: 'v1' }),
        })],
      }),
    }],
  ])('%s changes it', (_field, variant) => {
    expect(jobName(variant)).not.toBe(baseline);
  });

  test.each<[string, Variant]>([
    ['expectedDuration (reported in plans, not in the pod)', { props: () => ({ expectedDuration: Duration.minutes(5) }) }],
  ])('%s keeps it', (_what, variant) => {
    expect(jobName(variant)).toBe(baseline);
  });

  test('files added to the ConfigMap after the MigrationJob, before waitStep(), count', () => {
    const chart = newChart();
    const sql = new kplus.ConfigMap(chart, 'sql');
    const schema = new MigrationJob(chart, 'schema', {
      tool: MigrationTool.flyway(),
      database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
      migrations: MigrationSource.fromConfigMap(sql),
    });
    for (const [file, text] of Object.entries(FILES)) sql.addData(file, text);
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    InitSequence.of(web).add(schema.waitStep(chart, 'wait-for-schema'));
    expect(synthValid(chart).find(o => o.kind === 'Job').metadata.name).toBe(baseline);
  });

  test('the same files in two orders give one name', () => {
    const a = jobName({ files: { 'V1__customers.sql': FILES['V1__customers.sql'], 'V2__orders.sql': 'x' } });
    const b = jobName({ files: { 'V2__orders.sql': 'x', 'V1__customers.sql': FILES['V1__customers.sql'] } });
    expect(a).toBe(b);
  });

  test('an id with nothing usable for a name', () => {
    const chart = newChart();
    expect(() => new MigrationJob(chart, '__', {
      tool: MigrationTool.flyway(),
      database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
      migrations: MigrationSource.inImage(),
    })).toThrow('MigrationJob test/__: id "__" leaves nothing for the Job name; use letters or digits');
  });

  describe('a change after the name was used fails synthesis instead of leaving a wait for a Job that does not exist', () => {
    function started() {
      const chart = newChart();
      const sql = new kplus.ConfigMap(chart, 'sql', { data: FILES });
      const schema = new MigrationJob(chart, 'schema', {
        tool: MigrationTool.flyway(),
        database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
        migrations: MigrationSource.fromConfigMap(sql),
      });
      const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
      InitSequence.of(web).add(schema.waitStep(chart, 'wait-for-schema'));
      return { chart, sql, schema, waitedFor: schema.job.name };
    }

    test('a migration file added after waitStep()', () => {
      const { chart, sql, waitedFor } = started();
      sql.addData('V2__orders.sql', 'CREATE TABLE orders (id int);');
      expect(() => synthValid(chart)).toThrow(new RegExp(
        `MigrationJob test/schema: the Job's pod or a ConfigMap it uses changed after its name "${waitedFor}" was read ` +
        '\\(by waitStep\\(\\) or job.name\\); it is now "schema-[0-9a-f]{8}"',
      ));
    });

    test('a step added to the Job after waitStep()', () => {
      const { chart, schema } = started();
      InitSequence.of(schema.job).add(new ConfigFetchInit(chart, 'late', {
        volume: new SharedVolume(chart, 'late-files'),
        source: ConfigSource.git({ repository: 'https://git.example.com/late.git', revision: 'v1' }),
      }));
      expect(() => synthValid(chart)).toThrow(/MigrationJob test\/schema: the Job's pod or a ConfigMap it uses changed after its name/);
    });
  });
});


describeContainers('MigrationJob with migrations from a shared volume its initSteps fill', () => {
  const REPOSITORY = 'https://git.example.com/db.git';

  function fetchedJob(chart: Chart, options: { repository?: string; revision?: string; database?: DatabaseConnection } = {}) {
    const sql = new SharedVolume(chart, 'sql');
    return new MigrationJob(chart, 'schema', {
      tool: MigrationTool.liquibase({ changelogFile: 'changelog.sql' }),
      database: options.database ?? new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
      migrations: MigrationSource.fromVolume(sql, 'db'),
      initSteps: [new ConfigFetchInit(chart, 'fetch-migrations', {
        volume: sql,
        source: ConfigSource.git({ repository: options.repository ?? REPOSITORY, revision: options.revision ?? 'v1' }),
      })],
    });
  }

  test('the fetch runs first in the Job\'s pod, then the wait for the database, then the migration reads the volume', () => {
    const chart = newChart();
    fetchedJob(chart);
    const spec = podSpecOf(synthValid(chart).find(o => o.kind === 'Job'));
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['fetch-migrations', 'migrate-wait-db']);
    expect(spec.containers.map((c: any) => c.name)).toEqual(['migrate']);
    expect(spec.initContainers[0].volumeMounts).toContainEqual(expect.objectContaining({ name: 'sql', readOnly: false }));
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'sql', mountPath: '/liquibase/changelog', readOnly: true, subPath: 'db' });
    expect(spec.volumes).toContainEqual({ name: 'sql', emptyDir: {} });
  });

  test('the Job name follows what the steps fetch', () => {
    const name = (revision: string) => {
      const chart = newChart();
      const job = fetchedJob(chart, { revision });
      synthValid(chart);
      return job.job.name;
    };
    expect(name('v1')).toBe(name('v1'));
    expect(name('v1')).not.toBe(name('v2'));
  });

  test('without a step that fills the volume: an error that names the prop', () => {
    const chart = newChart();
    expect(() => new MigrationJob(chart, 'schema', {
      tool: MigrationTool.flyway(),
      database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
      migrations: MigrationSource.fromVolume(new SharedVolume(chart, 'sql')),
    })).toThrow('MigrationJob test/schema: migrations come from shared volume "sql", but no step in initSteps writes it; ' +
      'pass the step that fills it (e.g. a ConfigFetchInit) in initSteps, or mark the volume prePopulated');
  });

  test('initSteps that are not steps', () => {
    const chart = newChart();
    expect(() => new MigrationJob(chart, 'schema', {
      tool: MigrationTool.flyway(),
      database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
      migrations: MigrationSource.inImage(),
      initSteps: [null as any],
    })).toThrow('MigrationJob test/schema: initSteps[0] must be an InitStep; got null');
  });

  test('a pre-populated volume needs no step', () => {
    const chart = newChart();
    const claim = kplus.PersistentVolumeClaim.fromClaimName(chart, 'claim', 'migrations');
    const sql = new SharedVolume(chart, 'sql', { volume: kplus.Volume.fromPersistentVolumeClaim(chart, 'claim-volume', claim) });
    new MigrationJob(chart, 'schema', {
      tool: MigrationTool.flyway(),
      database: new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) }),
      migrations: MigrationSource.fromVolume(sql),
    });
    const spec = podSpecOf(synthValid(chart).find(o => o.kind === 'Job'));
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: sql.name, mountPath: '/flyway/sql', readOnly: true });
  });

  describe('runs as its pod would: git fetch into the volume, wait for PostgreSQL, Liquibase applies what was fetched', () => {
    const STEP_UID = 65532;
    const liquibaseHome = path.join(__dirname, '../../node_modules/liquibase/dist/liquibase');
    const password = 'p@ss w0rd$(id)';
    let pg: ReturnType<typeof startPostgres>;
    beforeAll(async () => {
      pg = startPostgres(await freePort());
      pg.psql(`CREATE ROLE shop LOGIN PASSWORD '${password}'; CREATE DATABASE shop OWNER shop;`);
    });
    afterAll(() => pg?.stop());

    test('the changesets from the tag are in the database', async () => {
      // A bare repository db.git whose tag v1 holds changelog.sql, owned by the step's uid as git requires.
      const origin = fs.mkdtempSync(path.join(os.tmpdir(), 'git-'));
      fs.chmodSync(origin, 0o755);
      const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], {
        cwd: origin,
        env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
      });
      fs.mkdirSync(path.join(origin, 'work'));
      fs.writeFileSync(path.join(origin, 'work', 'changelog.sql'), '--liquibase formatted sql\n' +
        '--changeset shop:1\nCREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);\n' +
        "--changeset shop:2\nINSERT INTO customers VALUES (1, 'Ada');\n");
      sh('cd work && git init -q -b main && git add . && git commit -qm one && git tag v1 && cd .. && git clone -q --bare work db.git');
      execFileSync('chown', ['-R', `${STEP_UID}:${STEP_UID}`, path.join(origin, 'db.git')]);

      const chart = newChart();
      fetchedJob(chart, {
        repository: path.join(origin, 'db.git'),
        database: new DatabaseConnection({ host: '127.0.0.1', port: pg.port, database: 'shop', credentials: new kplus.Secret(chart, 'db', {}), sslMode: 'disable' }),
      });
      const spec = podSpecOf(synthValid(chart).find(o => o.kind === 'Job'));
      const sql = emptyDir();
      const options: Record<string, RunOptions> = {
        'fetch-migrations': { tools: ['git'], mounts: { [origin]: origin } },
        'migrate-wait-db': {},
        'migrate': {
          env: { LIQUIBASE_COMMAND_USERNAME: 'shop', LIQUIBASE_COMMAND_PASSWORD: password, PATH: '/opt/liquibase:/usr/local/bin:/bin' },
          mounts: { '/opt/liquibase': liquibaseHome },
          tools: ['java', 'bash'],
          killAfterMs: 120_000,
        },
      };
      for (const container of [...spec.initContainers, ...spec.containers]) {
        const result = await runContainer(container, { pod: spec, volumes: { sql }, killAfterMs: 30_000, ...options[container.name] });
        expect({ container: container.name, code: result.code, output: result.code === 0 ? '' : result.output })
          .toEqual({ container: container.name, code: 0, output: '' });
      }
      expect(pg.psql('SELECT name FROM customers', 'shop')).toBe('Ada');
      expect(pg.psql('SELECT id FROM databasechangelog ORDER BY orderexecuted', 'shop')).toBe('1\n2');
    });
  });
});

describe('MigrationJob through a database proxy', () => {
  const INSTANCE = 'my-project:europe-west1:shop-db';

  /** A MigrationJob (Liquibase) through the cloud-sql-proxy preset, in an app targeting Kubernetes 1.30 (or none). */
  function proxiedJob(options: { target?: boolean; port?: number; httpPort?: number; database?: string; initSteps?: (chart: Chart) => any[] } = {}) {
    const app = Testing.app();
    if (options.target ?? true) new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
    const chart = new Chart(app, 'test');
    const key = new kplus.Secret(chart, 'sa-key', {});
    const proxy = DatabaseProxy.cloudSqlProxy({
      instanceConnectionName: INSTANCE, port: options.port, httpPort: options.httpPort, credentials: { secret: key, key: 'key.json' },
    });
    const port = options.port ?? 5432;
    const schema = new MigrationJob(chart, 'schema', {
      tool: MigrationTool.liquibase({ changelogFile: 'changelog.sql' }),
      database: new DatabaseConnection({
        host: '127.0.0.1', port, database: options.database ?? 'shop', credentials: new kplus.Secret(chart, 'db', {}), sslMode: 'disable',
      }),
      migrations: MigrationSource.fromConfigMap(new kplus.ConfigMap(chart, 'sql', { data: { 'changelog.sql': '--liquibase formatted sql' } })),
      proxy,
      initSteps: options.initSteps?.(chart),
    });
    return { chart, schema };
  }

  test('the proxy is the pod\'s first init container, a native sidecar; the Job completes with the migration, its main container', () => {
    const { chart, schema } = proxiedJob({
      initSteps: scope => [new ConfigFetchInit(scope, 'fetch-seed', {
        volume: new SharedVolume(scope, 'seed'),
        source: ConfigSource.git({ repository: 'https://git.example.com/seed.git', revision: 'v1' }),
      })],
    });
    const job = synthValid(chart).find(o => o.kind === 'Job');
    const spec = podSpecOf(job);
    expect(spec.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([
      ['migrate-proxy', 'Always'], ['fetch-seed', undefined], ['migrate-wait-db', undefined],
    ]);
    expect(spec.containers.map((c: any) => c.name)).toEqual(['migrate']);
    expect(spec.restartPolicy).toBe('Never');
    expect(job.spec.backoffLimit).toBe(0);
    const [proxy, , wait] = spec.initContainers;
    expect(proxy.startupProbe.httpGet).toEqual({ path: '/startup', port: 9090, scheme: 'HTTP' });
    expect(proxy.args).toContain('--exit-zero-on-sigterm');
    expect(wait.env.find((e: any) => e.name === 'WAIT_TARGETS').value).toBe('tcp 127.0.0.1 5432\nhttp 127.0.0.1 9090 /readiness 2??');
    expect(spec.containers[0].env.find((e: any) => e.name === 'LIQUIBASE_COMMAND_URL').value).toBe('jdbc:postgresql://127.0.0.1:5432/shop?sslmode=disable');
    // The proxy is no prerequisite of the migration: the Job starts it first, before initSteps.
    expect(schema.migration.prerequisites.map(s => s.name)).toEqual(['migrate-wait-db']);
    expect(schema.migration.proxySidecar?.node.path).toBe('test/schema/migrate/proxy');
  });

  test('the proxy is part of the Job\'s content: another instance is another Job', () => {
    const name = (port: number) => {
      const { chart, schema } = proxiedJob({ port });
      synthValid(chart);
      return schema.job.name;
    };
    expect(name(5432)).toBe(name(5432));
    expect(name(5432)).not.toBe(name(6543));
  });

  test('without a declared Kubernetes version, synthesis fails naming the MigrationJob\'s proxy', () => {
    const { chart } = proxiedJob({ target: false });
    expect(() => Testing.synth(chart)).toThrow(
      'init step "migrate-proxy" (test/schema/migrate/proxy) is a native sidecar (restartPolicy: Always), which an API server older than 1.28 accepts and drops');
  });

  describe('runs as its pod would: the proxy keeps running, the migration reaches PostgreSQL only through it, SIGTERM stops the proxy', () => {
    const liquibaseHome = path.join(__dirname, '../../node_modules/liquibase/dist/liquibase');
    const password = 'p@ss w0rd$(id)"\'`;';
    let pg: ReturnType<typeof startPostgres>;
    beforeAll(async () => {
      pg = startPostgres(await freePort());
      pg.psql(`CREATE ROLE shop LOGIN PASSWORD '${password.replace(/'/g, "''")}';`);
    });
    afterAll(() => pg?.stop());

    /** A directory holding `files`, readable by the step's uid. */
    const dirWith = (files: Record<string, string>) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-test-'));
      fs.chmodSync(dir, 0o755);
      for (const [file, text] of Object.entries(files)) {
        fs.writeFileSync(path.join(dir, file), text);
        fs.chmodSync(path.join(dir, file), 0o644);
      }
      return dir;
    };

    /** What the kubelet does with the startup probe of the manifest: GET every periodSeconds until it passes or failureThreshold. */
    async function startupProbePasses(probe: any): Promise<number> {
      const started = Date.now();
      for (let attempt = 1; attempt <= probe.failureThreshold; attempt++) {
        const status = await new Promise<number>(resolve => {
          const req = http.get({ host: '127.0.0.1', port: probe.httpGet.port, path: probe.httpGet.path, timeout: probe.timeoutSeconds * 1000 }, res => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve(0));
        });
        if (status >= 200 && status < 400) return Date.now() - started;
        await new Promise(r => setTimeout(r, probe.periodSeconds * 1000));
      }
      throw new Error(`the startup probe ${JSON.stringify(probe.httpGet)} never passed`);
    }

    const connects = (port: number) => new Promise<boolean>(resolve => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });

    forEachBusybox(busybox => {
      test('migration exits 0 with its changes in the database; the proxy outlives it, then exits 0 promptly on SIGTERM', async () => {
        // A database of its own per busybox build, so each run applies the changesets.
        const database = `shop_${busybox.name}`;
        pg.psql(`CREATE DATABASE ${database} OWNER shop;`);
        const [port, httpPort] = [await freePort(), await freePort()];
        const { chart } = proxiedJob({ port, httpPort, database });
        const spec = podSpecOf(synthValid(chart).find(o => o.kind === 'Job'));
        const [proxy, wait] = spec.initContainers;
        const [migrate] = spec.containers;
        // PostgreSQL listens on another port than the one the migration is configured with: only the proxy leads there.
        expect(pg.port).not.toBe(port);
        expect(JSON.stringify(migrate)).not.toContain(`:${pg.port}/`);

        // The image's entrypoint (/cloud-sql-proxy) is the stand-in, given the manifest's args.
        const image = dirWith({ 'cloud-sql-proxy.js': fs.readFileSync(path.join(__dirname, '../util/db-proxy-stand-in.js'), 'utf8') });
        const credentials = proxy.volumeMounts[0].name;
        let migrationDone: () => void = () => undefined;
        const stopProxy = new Promise<void>(resolve => { migrationDone = resolve; });
        let proxyExited = false;
        const proxyRun = runContainer({ ...proxy, command: ['node', '/cloud-sql-proxy/cloud-sql-proxy.js'] }, {
          pod: spec,
          busybox,
          tools: ['node'],
          mounts: { '/cloud-sql-proxy': image },
          volumes: { [credentials]: dirWith({ 'credentials.json': '{"type": "service_account"}' }) },
          env: { STAND_IN_UPSTREAM: `127.0.0.1:${pg.port}` },
          sigtermWhen: () => stopProxy,
          killAfterMs: 120_000,
        }).finally(() => { proxyExited = true; });

        // The kubelet starts the next container once the startup probe passes.
        await startupProbePasses(proxy.startupProbe);
        const waited = await runContainer(wait, { pod: spec, busybox, killAfterMs: 30_000 });
        expect({ code: waited.code, output: waited.code === 0 ? '' : waited.output }).toEqual({ code: 0, output: '' });

        const migrated = await runContainer(migrate, {
          pod: spec,
          busybox,
          env: { LIQUIBASE_COMMAND_USERNAME: 'shop', LIQUIBASE_COMMAND_PASSWORD: password, PATH: '/opt/liquibase:/usr/local/bin:/bin' },
          volumes: {
            'migrate-migrations': dirWith({
              'changelog.sql': '--liquibase formatted sql\n' +
                '--changeset shop:1\nCREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);\n' +
                "--changeset shop:2\nINSERT INTO customers VALUES (1, 'Ada');\n",
            }),
          },
          mounts: { '/opt/liquibase': liquibaseHome },
          tools: ['java', 'bash'],
          killAfterMs: 120_000,
        });
        expect({ code: migrated.code, output: migrated.code === 0 ? '' : migrated.output }).toEqual({ code: 0, output: '' });
        expect(pg.psql('SELECT name FROM customers', database)).toBe('Ada');
        expect(pg.psql('SELECT id FROM databasechangelog ORDER BY orderexecuted', database)).toBe('1\n2');

        // The migration has exited; the proxy still runs and still forwards to the database.
        expect(proxyExited).toBe(false);
        const throughProxy = execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'shop', '-d', database, '-X', '-A', '-t', '-c', 'SELECT count(*) FROM customers'], {
          env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' }, encoding: 'utf8',
        });
        expect(throughProxy.trim()).toBe('1');

        // The kubelet stops the sidecar once the Job's main container has exited.
        migrationDone();
        const stopped = await proxyRun;
        // The exit code the flags promise: 0 with --exit-zero-on-sigterm (else 143), within 2 s (measured: under 10 ms).
        expect({ code: stopped.code, prompt: stopped.exitAfterSigtermMs! < 2000, output: stopped.code === 0 ? '' : stopped.output })
          .toEqual({ code: proxy.args.includes('--exit-zero-on-sigterm') ? 0 : 143, prompt: true, output: '' });
        expect(await connects(port)).toBe(false);
      }, 180_000);
    });
  });
});
