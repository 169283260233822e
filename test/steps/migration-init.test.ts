import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  ConfigFetchInit, ConfigSource, DatabaseConnection, DatabaseEngine, DatabaseProxy, InitSequence, KubernetesTarget,
  MigrationInit, MigrationInitProps, MigrationSource, MigrationTool, SharedVolume,
} from '../../src';
import { describeContainers, runContainer } from '../util/container';
import { newChart } from '../util/fixtures';
import { containerArgv } from '../util/kubelet';
import { initContainersOf, podSpecOf, synthValid } from '../util/manifest';
import { startPostgres } from '../util/postgres';
import { freePort } from '../util/servers';

type Props = Omit<MigrationInitProps, 'database'> & { database?: DatabaseConnection };

/** Synthesizes a Deployment with a MigrationInit; returns its init containers and the secret's name. */
function migration(make: (chart: any, secret: kplus.Secret) => Props, engine = DatabaseEngine.POSTGRESQL) {
  const chart = newChart();
  const secret = new kplus.Secret(chart, 'db-credentials', {});
  const props = make(chart, secret);
  const database = props.database ?? new DatabaseConnection({ engine, host: 'db.data.svc', database: 'shop', credentials: secret, sslMode: 'require' });
  const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
  InitSequence.of(d).add(new MigrationInit(chart, 'migrate', { ...props, database }));
  const containers = initContainersOf(synthValid(chart));
  return { containers, secretName: secret.name, env: (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom])) };
}

const secretRef = (name: string, key: string) => ({ secretKeyRef: { name, key } });

describe('MigrationInit presets follow each tool\'s documented CLI', () => {
  test('Flyway: `flyway migrate` with FLYWAY_* env, password from the Secret; waits for the database first', () => {
    const { containers, secretName, env } = migration(() => ({ tool: MigrationTool.flyway(), migrations: MigrationSource.inImage() }));
    expect(containers.map(c => c.name)).toEqual(['migrate-wait-db', 'migrate']);
    expect(env(containers[0]).WAIT_TARGETS).toBe('tcp db.data.svc 5432');
    const c = containers[1];
    expect(c.image).toBe('flyway/flyway:10.20.1');
    expect(c.command).toEqual(['flyway', 'migrate']);
    expect(env(c)).toEqual({
      FLYWAY_URL: 'jdbc:postgresql://db.data.svc:5432/shop?sslmode=require',
      FLYWAY_USER: secretRef(secretName, 'username'),
      FLYWAY_PASSWORD: secretRef(secretName, 'password'),
      FLYWAY_LOCATIONS: 'filesystem:/flyway/sql',
    });
    expect(c.volumeMounts).toEqual([{ name: 'migrate-scratch', mountPath: '/tmp', readOnly: false }]);
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '384Mi' }, limits: { memory: '768Mi' } });
  });

  test('Liquibase: `liquibase update` with LIQUIBASE_COMMAND_* env and the changelog in the search path', () => {
    const { containers, secretName, env } = migration(chart => ({
      tool: MigrationTool.liquibase({ changelogFile: 'db/changelog.sql' }),
      migrations: MigrationSource.fromConfigMap(new kplus.ConfigMap(chart, 'sql', { data: { 'db/changelog.sql': '--liquibase formatted sql' } })),
      waitForDatabase: false,
    }));
    expect(containers.map(c => c.name)).toEqual(['migrate']);
    const [c] = containers;
    expect(c.image).toBe('liquibase/liquibase:4.28.0');
    expect(c.command).toEqual(['liquibase', 'update']);
    expect(env(c)).toMatchObject({
      LIQUIBASE_COMMAND_URL: 'jdbc:postgresql://db.data.svc:5432/shop?sslmode=require',
      LIQUIBASE_COMMAND_USERNAME: secretRef(secretName, 'username'),
      LIQUIBASE_COMMAND_PASSWORD: secretRef(secretName, 'password'),
      LIQUIBASE_COMMAND_CHANGELOG_FILE: 'db/changelog.sql',
      LIQUIBASE_SEARCH_PATH: '/liquibase/changelog',
    });
    expect(c.volumeMounts).toContainEqual({ name: 'migrate-migrations', mountPath: '/liquibase/changelog', readOnly: true });
  });

  test('golang-migrate: -path/-database/up, a URL without credentials, PGUSER/PGPASSWORD from the Secret', () => {
    const { containers, secretName, env } = migration(() => ({ tool: MigrationTool.golangMigrate(), migrations: MigrationSource.inImage('/app/migrations'), image: 'ghcr.io/example/migrations:1.4.0' }));
    const c = containers[1];
    expect(c.image).toBe('ghcr.io/example/migrations:1.4.0');
    expect(c.command).toEqual(['migrate']);
    expect(c.args).toEqual(['-path', '/app/migrations', '-database', 'postgres://db.data.svc:5432/shop?sslmode=require', 'up']);
    expect(env(c)).toEqual({ PGUSER: secretRef(secretName, 'username'), PGPASSWORD: secretRef(secretName, 'password') });
  });

  test('Atlas: `migrate apply --url … --dir file://…` on the image entrypoint', () => {
    const { containers } = migration(() => ({ tool: MigrationTool.atlas(), migrations: MigrationSource.inImage() }));
    const c = containers[1];
    expect(c.image).toBe('arigaio/atlas:0.28.1');
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(['migrate', 'apply', '--url', 'postgres://db.data.svc:5432/shop?sslmode=require', '--dir', 'file:///migrations']);
  });

  test('custom: DB_* and PG* env, password from the Secret', () => {
    const { containers, secretName, env } = migration(() => ({
      tool: MigrationTool.custom({ image: 'ghcr.io/example/app:2.0.0', command: ['./manage', 'migrate'], args: ['--host', '$(DB_HOST)'] }),
      migrations: MigrationSource.inImage(),
    }));
    expect(env(containers[1])).toMatchObject({
      DB_HOST: 'db.data.svc', DB_PORT: '5432', DB_NAME: 'shop', DB_PASSWORD: secretRef(secretName, 'password'), PGPASSWORD: secretRef(secretName, 'password'),
    });
    expect(containers[1].args).toEqual(['--host', '$(DB_HOST)']);
  });

  test('MySQL with Flyway; refused for tools whose URL would carry the password', () => {
    const flyway = () => ({ tool: MigrationTool.flyway(), migrations: MigrationSource.inImage(), waitForDatabase: false });
    const { containers, env } = migration(flyway, DatabaseEngine.MYSQL);
    expect(env(containers[0]).FLYWAY_URL).toBe('jdbc:mysql://db.data.svc:3306/shop');
    expect(() => migration(() => ({ tool: MigrationTool.golangMigrate(), migrations: MigrationSource.inImage() }), DatabaseEngine.MYSQL))
      .toThrow(/MigrationTool.golangMigrate: supports PostgreSQL only here, because its URL would have to carry the mysql password/);
  });

  test('migrations from a volume an earlier step filled (ConfigFetchInit from Git)', () => {
    const chart = newChart();
    const secret = new kplus.Secret(chart, 'db', {});
    const sql = new SharedVolume(chart, 'sql');
    const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
    const db = new kplus.Service(chart, 'postgres', { ports: [{ port: 5432 }] });
    InitSequence.of(d).add(
      new ConfigFetchInit(chart, 'fetch-migrations', { volume: sql, source: ConfigSource.git({ repository: 'https://git.example.com/db.git', revision: 'v7' }) }),
      new MigrationInit(chart, 'migrate', {
        tool: MigrationTool.golangMigrate(),
        database: new DatabaseConnection({ service: db, database: 'app', credentials: secret }),
        migrations: MigrationSource.fromVolume(sql, 'db/sql'),
      }),
    );
    const containers = initContainersOf(synthValid(chart));
    expect(containers.map(c => c.name)).toEqual(['fetch-migrations', 'migrate-wait-db', 'migrate']);
    expect(containers[2].volumeMounts).toEqual([{ name: 'sql', mountPath: '/migrations', readOnly: true, subPath: 'db/sql' }]);
    expect(containers[2].args[3]).toBe(`postgres://${db.name}:5432/app?sslmode=prefer`);
  });

  describe('inImage(path) moves the migrations directory only where it is a path, never inside a URL', () => {
    // A database named like the default directory: "/migrations" is in every URL.
    const inImage = (tool: MigrationTool) => migration(chart => ({
      tool,
      database: new DatabaseConnection({ host: 'db.data.svc', database: 'migrations', credentials: new kplus.Secret(chart, 'db', {}), sslMode: 'require' }),
      migrations: MigrationSource.inImage('/app/db'),
      waitForDatabase: false,
    }));
    const url = 'postgres://db.data.svc:5432/migrations?sslmode=require';
    const jdbcUrl = 'jdbc:postgresql://db.data.svc:5432/migrations?sslmode=require';

    test('golang-migrate: -path moves, the -database URL keeps its database', () => {
      const { containers } = inImage(MigrationTool.golangMigrate());
      expect(containers[0].args).toEqual(['-path', '/app/db', '-database', url, 'up']);
    });

    test('Atlas: --dir moves, the --url keeps its database', () => {
      const { containers } = inImage(MigrationTool.atlas());
      expect(containers[0].args).toEqual(['migrate', 'apply', '--url', url, '--dir', 'file:///app/db']);
    });

    test('Flyway and Liquibase: the location env vars move, the JDBC URL stays', () => {
      const flyway = inImage(MigrationTool.flyway());
      expect(flyway.env(flyway.containers[0])).toMatchObject({ FLYWAY_URL: jdbcUrl, FLYWAY_LOCATIONS: 'filesystem:/app/db' });
      const liquibase = inImage(MigrationTool.liquibase());
      expect(liquibase.env(liquibase.containers[0])).toMatchObject({ LIQUIBASE_COMMAND_URL: jdbcUrl, LIQUIBASE_SEARCH_PATH: '/app/db' });
    });

    test('custom: MIGRATIONS_DIR and whole arguments equal to migrationsPath move; URLs in env and args stay', () => {
      const { containers, env } = inImage(MigrationTool.custom({
        image: 'ghcr.io/example/app:2.0.0',
        command: ['./manage', 'migrate'],
        args: ['--dir', '/migrations', '--mirror', 'https://mirror.example.com/migrations', '--dir2=/migrations'],
      }));
      expect(containers[0].args).toEqual(['--dir', '/app/db', '--mirror', 'https://mirror.example.com/migrations', '--dir2=/migrations']);
      expect(env(containers[0])).toMatchObject({ MIGRATIONS_DIR: '/app/db', DB_JDBC_URL: jdbcUrl, DB_NAME: 'migrations', PGDATABASE: 'migrations' });
    });

    test('a path with "$" reaches the tool unexpanded', () => {
      const { containers } = migration(() => ({ tool: MigrationTool.golangMigrate(), migrations: MigrationSource.inImage('/app/$(HOME)/db'), waitForDatabase: false }));
      expect(containerArgv(containers[0], { HOME: '/home/app' })).toEqual(['migrate', '-path', '/app/$(HOME)/db', '-database', 'postgres://db.data.svc:5432/shop?sslmode=require', 'up']);
    });
  });

  test('the preset images are public constants', () => {
    expect([MigrationTool.FLYWAY_IMAGE, MigrationTool.LIQUIBASE_IMAGE, MigrationTool.GOLANG_MIGRATE_IMAGE, MigrationTool.ATLAS_IMAGE])
      .toEqual(['flyway/flyway:10.20.1', 'liquibase/liquibase:4.28.0', 'migrate/migrate:v4.17.1', 'arigaio/atlas:0.28.1']);
    const { containers } = migration(() => ({ tool: MigrationTool.liquibase(), migrations: MigrationSource.inImage(), waitForDatabase: false }));
    expect(containers[0].image).toBe(MigrationTool.LIQUIBASE_IMAGE);
  });

  test('no secret value or password ever appears in the manifest', () => {
    const { containers } = migration(() => ({ tool: MigrationTool.flyway(), migrations: MigrationSource.inImage() }));
    for (const c of containers) {
      for (const e of c.env ?? []) if (/PASSWORD|USER/.test(e.name)) expect(e.value).toBeUndefined();
    }
  });

  describe('bad input', () => {
    const secret = () => new kplus.Secret(newChart(), 's', {});
    test('host and service together, or neither', () => {
      expect(() => new DatabaseConnection({ database: 'x', credentials: secret() })).toThrow('DatabaseConnection: give exactly one of host or service');
    });
    test('a bad database name', () => {
      expect(() => new DatabaseConnection({ host: 'db', database: 'x; DROP TABLE', credentials: secret() })).toThrow(/database name "x; DROP TABLE" must be/);
    });
    test('a bad sslMode', () => {
      expect(() => new DatabaseConnection({ host: 'db', database: 'x', credentials: secret(), sslMode: 'on' })).toThrow(/sslMode "on" is not one of/);
    });
    test('a host with shell metacharacters', () => {
      expect(() => new DatabaseConnection({ host: 'db$(id)', database: 'x', credentials: secret() })).toThrow(/host "db\$\(id\)" is not a valid DNS name/);
    });
    test.each(['tool', 'database', 'migrations'])('a %s from another copy of cdk8s-init: the two-copies error', what => {
      // A second module instance of the library, as a bundled copy would be (a dynamic import needs ESM mode).
      let other: typeof import('../../src') = undefined as any;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => { other = require('../../src'); });
      const chart = newChart();
      const credentials = new kplus.Secret(chart, 'db', {});
      const own = { tool: MigrationTool.flyway(), database: new DatabaseConnection({ host: 'db', database: 'x', credentials }), migrations: MigrationSource.inImage() };
      const foreign = { tool: other.MigrationTool.flyway(), database: new other.DatabaseConnection({ host: 'db', database: 'x', credentials }), migrations: other.MigrationSource.inImage() };
      expect(() => new MigrationInit(chart, 'migrate', { ...own, [what]: (foreign as any)[what] }))
        .toThrow(new RegExp(`^MigrationInit test/migrate: ${what} comes from another copy of cdk8s-init \\(.*\\); this one is .*Two copies of cdk8s-init are installed`));
      expect(() => new MigrationInit(chart, 'migrate2', { ...own, [what]: {} as any })).toThrow(new RegExp(`^MigrationInit test/migrate2: ${what} must be a \\w+; got Object$`));
    });
    test('a changelog outside the search path', () => {
      expect(() => MigrationTool.liquibase({ changelogFile: '../etc/passwd' })).toThrow(/changelogFile "..\/etc\/passwd" must be a relative path/);
    });
  });
});

describeContainers('MigrationInit runs Liquibase in its container against a real PostgreSQL', () => {
  // The image (liquibase/liquibase) has its launcher, a bash script that runs java, on PATH.
  // Here the npm package's distribution is mounted read-only at /opt/liquibase and put on
  // PATH as the image's ENV would; java and bash are the host's. (Not at the image's
  // /liquibase: the harness mounts volumes before extra mounts, so /liquibase would hide
  // the changelog volume at /liquibase/changelog.)
  const liquibaseHome = path.join(__dirname, '../../node_modules/liquibase/dist/liquibase');
  let pg: ReturnType<typeof startPostgres>;
  const password = 'p@ss w0rd$(id)"\'`;';

  beforeAll(async () => {
    pg = startPostgres(await freePort());
    pg.psql(`CREATE ROLE shop LOGIN PASSWORD '${password.replace(/'/g, "''")}'; CREATE DATABASE shop OWNER shop;`);
  });
  afterAll(() => pg?.stop());

  const changelogDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'changelog-'));
    fs.chmodSync(dir, 0o755);
    return dir;
  };
  const writeChangelog = (dir: string, text: string) => {
    fs.writeFileSync(path.join(dir, 'changelog.sql'), text);
    fs.chmodSync(path.join(dir, 'changelog.sql'), 0o644);
  };
  const changeset = (id: number, sql: string) => `--changeset shop:${id}\n${sql}\n`;

  function liquibaseContainer(): any {
    const { containers } = migration((chart, secret) => ({
      tool: MigrationTool.liquibase({ changelogFile: 'changelog.sql' }),
      database: new DatabaseConnection({ host: '127.0.0.1', port: pg.port, database: 'shop', credentials: secret, sslMode: 'disable' }),
      migrations: MigrationSource.fromConfigMap(new kplus.ConfigMap(chart, 'sql')),
      waitForDatabase: false,
    }));
    return containers[0];
  }

  /** Runs the step as PID 1 with its uid, the ConfigMap volume holding `dir`; the secret's values as the kubelet resolves them. */
  const run = (dir: string, secretPassword = password) => {
    const container = liquibaseContainer();
    const migrations = container.volumeMounts.find((m: any) => m.mountPath === '/liquibase/changelog').name;
    return runContainer(container, {
      env: { LIQUIBASE_COMMAND_USERNAME: 'shop', LIQUIBASE_COMMAND_PASSWORD: secretPassword, PATH: '/opt/liquibase:/usr/local/bin:/bin' },
      volumes: { [migrations]: dir },
      mounts: { '/opt/liquibase': liquibaseHome },
      tools: ['java', 'bash'],
      killAfterMs: 120_000,
    });
  };

  test('the container runs as its restricted uid', () => {
    expect(liquibaseContainer().securityContext).toMatchObject({ runAsUser: 65532, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  test('applies two migrations in order, re-runs as a no-op, and fails clearly on a broken one', async () => {
    const dir = changelogDir();
    const log = '--liquibase formatted sql\n' +
      changeset(1, 'CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);') +
      changeset(2, "INSERT INTO customers VALUES (1, 'Ada');");
    writeChangelog(dir, log);

    const first = await run(dir);
    expect(first.output).toContain('Liquibase command \'update\' was executed successfully');
    // Every LIQUIBASE_* variable the preset sets is one this Liquibase knows.
    expect(first.output).not.toMatch(/invalid LIQUIBASE_\* environment variables/);
    expect(first.code).toBe(0);
    expect(pg.psql('SELECT name FROM customers', 'shop')).toBe('Ada');
    expect(pg.psql('SELECT id FROM databasechangelog ORDER BY orderexecuted', 'shop')).toBe('1\n2');

    const again = await run(dir);
    expect(again.code).toBe(0);
    expect(again.output).toMatch(/Run:\s+0/);
    expect(pg.psql('SELECT count(*) FROM databasechangelog', 'shop')).toBe('2');

    writeChangelog(dir, log + changeset(3, 'ALTER TABLE customers ADD COLUMN email text NOT NUL;'));
    const broken = await run(dir);
    expect(broken.code).not.toBe(0);
    expect(broken.output).toMatch(/syntax error at or near "NUL"/);
    expect(pg.psql('SELECT count(*) FROM databasechangelog', 'shop')).toBe('2');
    expect(pg.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'email'", 'shop')).toBe('0');
  });

  test('a wrong password fails with the database\'s own message', async () => {
    const dir = changelogDir();
    writeChangelog(dir, '--liquibase formatted sql\n' + changeset(1, 'SELECT 1;'));
    const result = await run(dir, 'wrong');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/password authentication failed for user "shop"/);
  });
});

describe('MigrationInit through a database proxy', () => {
  const INSTANCE = 'my-project:europe-west1:shop-db';

  /** A Deployment in a chart of an app targeting Kubernetes 1.30 (or none), migrating through `proxy`. */
  interface ProxiedOptions {
    readonly proxy?: DatabaseProxy;
    readonly database?: (secret: kplus.Secret) => DatabaseConnection;
    readonly props?: Partial<MigrationInitProps>;
    readonly target?: boolean;
  }

  function proxied(options: ProxiedOptions = {}) {
    const app = Testing.app();
    if (options.target ?? true) new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
    const chart = new Chart(app, 'test');
    const secret = new kplus.Secret(chart, 'db-credentials', {});
    const database = options.database?.(secret) ?? new DatabaseConnection({ host: '127.0.0.1', port: 5432, database: 'shop', credentials: secret, sslMode: 'disable' });
    const web = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
    const proxy = options.proxy ?? DatabaseProxy.cloudSqlProxy({ instanceConnectionName: INSTANCE });
    const step = () => new MigrationInit(chart, 'migrate', { tool: MigrationTool.flyway(), database, migrations: MigrationSource.inImage(), proxy, ...options.props });
    return { chart, web, secret, step };
  }

  const env = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

  test('the proxy first, then the wait for the database through it, then the migration through it; the proxy stays for the app', () => {
    const { chart, web, secret, step } = proxied();
    const migrateStep = step();
    InitSequence.of(web).add(migrateStep);
    const spec = podSpecOf(synthValid(chart).find(o => o.kind === 'Deployment'));
    const [proxy, wait, migrate] = spec.initContainers;
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['migrate-proxy', 'migrate-wait-db', 'migrate']);
    expect(migrateStep.prerequisites.map(s => s.name)).toEqual(['migrate-proxy', 'migrate-wait-db']);
    expect(migrateStep.proxySidecar?.name).toBe('migrate-proxy');
    expect(proxy).toMatchObject({
      restartPolicy: 'Always',
      image: DatabaseProxy.CLOUD_SQL_PROXY_IMAGE,
      args: ['--address', '127.0.0.1', '--port', '5432', '--health-check', '--http-address', '0.0.0.0', '--http-port', '9090',
        '--exit-zero-on-sigterm', '--structured-logs', INSTANCE],
      startupProbe: { httpGet: { path: '/startup', port: 9090 } },
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: { runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    });
    // The wait checks the proxy's listener and that the proxy reaches the instance (/readiness dials it).
    expect(env(wait).WAIT_TARGETS).toBe('tcp 127.0.0.1 5432\nhttp 127.0.0.1 9090 /readiness 2??');
    expect(wait.restartPolicy).toBeUndefined();
    expect(env(migrate)).toEqual({
      FLYWAY_URL: 'jdbc:postgresql://127.0.0.1:5432/shop?sslmode=disable',
      FLYWAY_USER: secretRef(secret.name, 'username'),
      FLYWAY_PASSWORD: secretRef(secret.name, 'password'),
      FLYWAY_LOCATIONS: 'filesystem:/flyway/sql',
    });
    expect(migrate.restartPolicy).toBeUndefined();
    // The app is untouched: it may connect to 127.0.0.1:5432 itself, the sidecar runs as long as the pod.
    expect(spec.containers.map((c: any) => c.name)).toEqual(['web']);
    // No credential in args or in a literal env value of any container.
    for (const c of spec.initContainers) {
      expect((c.args ?? []).join(' ')).not.toMatch(/password|secret|token/i);
      for (const e of c.env ?? []) if (/PASSWORD|USER|CREDENTIAL|KEY/.test(e.name)) expect(e.value).toBeUndefined();
    }
  });

  test('every tool goes through it: golang-migrate and Atlas get the loopback URL', () => {
    for (const tool of [MigrationTool.golangMigrate(), MigrationTool.atlas()]) {
      const { chart, web, step } = proxied({ props: { tool } });
      InitSequence.of(web).add(step());
      const migrate = initContainersOf(synthValid(chart))[2];
      expect(migrate.args).toContain('postgres://127.0.0.1:5432/shop?sslmode=disable');
    }
  });

  test('a DatabaseConnection that does not name the proxy\'s listener is refused, saying which one to give', () => {
    const through = (host: string, port: number) => () => proxied({
      database: secret => new DatabaseConnection({ host, port, database: 'shop', credentials: secret, sslMode: 'disable' }),
    }).step();
    const fix = "name the proxy's listener in the DatabaseConnection: new DatabaseConnection({ host: '127.0.0.1', port: 5432, ... })";
    expect(through('db.data.svc', 5432)).toThrow(
      `MigrationInit test/migrate: the migration goes through the proxy (cloud-sql-proxy for ${INSTANCE} on 127.0.0.1:5432), but database is db.data.svc:5432; ${fix}`);
    expect(through('127.0.0.1', 5433)).toThrow('but database is 127.0.0.1:5433');
    expect(through('localhost', 5432)).toThrow('but database is localhost:5432');
  });

  test('TLS to the proxy\'s plain listener is refused: sslMode must be disable', () => {
    expect(() => proxied({
      database: secret => new DatabaseConnection({ host: '127.0.0.1', port: 5432, database: 'shop', credentials: secret, sslMode: 'require' }),
    }).step()).toThrow(
      `MigrationInit test/migrate: database sslMode is "require", but the proxy (cloud-sql-proxy for ${INSTANCE} on 127.0.0.1:5432) speaks plain ` +
      "PostgreSQL on 127.0.0.1:5432 and encrypts the connection to the instance itself; a client asking it for TLS fails. Give sslMode: 'disable'");
  });

  test('without the wait, the proxy\'s startup probe holds the migration; a proxy without one needs the wait', () => {
    const { chart, web, step } = proxied({ props: { waitForDatabase: false } });
    InitSequence.of(web).add(step());
    expect(initContainersOf(synthValid(chart)).map(c => c.name)).toEqual(['migrate-proxy', 'migrate']);

    const custom = DatabaseProxy.custom({ image: 'ghcr.io/example/db-proxy:1.4.2', port: 5432 });
    expect(() => proxied({ proxy: custom, props: { waitForDatabase: false } }).step()).toThrow(
      'MigrationInit test/migrate: waitForDatabase is false and the proxy (database proxy ghcr.io/example/db-proxy:1.4.2 on 127.0.0.1:5432) has no ' +
      'startupProbe, so nothing holds the migration until the proxy listens on 127.0.0.1:5432');
    const withWait = proxied({ proxy: custom });
    InitSequence.of(withWait.web).add(withWait.step());
    const [, wait] = initContainersOf(synthValid(withWait.chart));
    expect(env(wait).WAIT_TARGETS).toBe('tcp 127.0.0.1 5432');
  });

  test('without a declared Kubernetes version, synthesis fails naming the migration\'s proxy', () => {
    const { chart, web, step } = proxied({ target: false });
    InitSequence.of(web).add(step());
    expect(() => Testing.synth(chart)).toThrow(
      'init step "migrate-proxy" (test/migrate/proxy) is a native sidecar (restartPolicy: Always), which an API server older than 1.28 accepts and drops');
  });

  test('a proxy that is not a DatabaseProxy', () => {
    expect(() => proxied({ proxy: {} as any }).step()).toThrow('MigrationInit test/migrate: proxy must be a DatabaseProxy; got Object');
  });
});
