import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DatabaseConnection, DatabaseEngine } from '../database';
import { brand } from '../private/identity';
import { kubeletLiteral, literalEnv } from '../private/kubelet-literal';
import { MIGRATION_TOOL_BRAND } from '../private/migration-brands';
import { assertMountPath, assertRelativePath } from '../private/mount-paths';

/**
 * Options of the Liquibase preset.
 */
export interface LiquibaseOptions {
  /**
   * Changelog file, relative to the migrations directory (XML, YAML, JSON or formatted SQL).
   *
   * @default "changelog.xml"
   */
  readonly changelogFile?: string;
}

/**
 * Options of a custom migration tool.
 */
export interface CustomMigrationToolOptions {
  /** Pinned image. */
  readonly image: string;

  /** Command. It gets DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD, DB_JDBC_URL, MIGRATIONS_DIR (and PG* for PostgreSQL) as env vars. */
  readonly command: string[];

  /**
   * Arguments; `$(DB_HOST)`-style references to those env vars are expanded by the kubelet.
   *
   * @default - none
   */
  readonly args?: string[];

  /**
   * Where the tool reads migrations: the mount path of a ConfigMap or volume
   * source, and `MIGRATIONS_DIR`. With `MigrationSource.inImage(path)`,
   * `MIGRATIONS_DIR` is that path, and so is every argument equal to this one.
   *
   * @default "/migrations"
   */
  readonly migrationsPath?: string;
}

/**
 * A migration tool resolved for one database.
 * @internal
 */
export interface BoundMigrationTool {
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env: { [name: string]: kplus.EnvValue };
  readonly migrationsPath: string;
  readonly resources: kplus.ContainerResources;
  readonly scratchPath?: string;
  readonly lock: string;
}

/** JVM tools need more than the default 64Mi, and a writable /tmp. */
const JVM_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(250) },
  memory: { request: Size.mebibytes(384), limit: Size.mebibytes(768) },
};
const GO_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
};

/**
 * A schema migration tool: a preset for Flyway, Liquibase, golang-migrate or
 * Atlas, with its official pinned image and the tool's own flags and env vars,
 * or a custom command.
 *
 * The password never appears in args, env literals or scripts: each preset
 * reads it from an env var backed by a secretKeyRef.
 */
export class MigrationTool {
  /** Flyway's official image, as `flyway()` pins it. */
  public static readonly FLYWAY_IMAGE = 'flyway/flyway:10.20.1';

  /** Liquibase's official image, as `liquibase()` pins it. */
  public static readonly LIQUIBASE_IMAGE = 'liquibase/liquibase:4.28.0';

  /** golang-migrate's official image, as `golangMigrate()` pins it. */
  public static readonly GOLANG_MIGRATE_IMAGE = 'migrate/migrate:v4.17.1';

  /** Atlas's official image, as `atlas()` pins it. */
  public static readonly ATLAS_IMAGE = 'arigaio/atlas:0.28.1';

  /**
   * Flyway: `flyway migrate`, configured by FLYWAY_URL, FLYWAY_USER,
   * FLYWAY_PASSWORD and FLYWAY_LOCATIONS=filesystem:<dir>. Concurrent runs are
   * serialized by Flyway's database lock (an advisory lock on PostgreSQL).
   */
  public static flyway(): MigrationTool {
    return new MigrationTool('flyway', '/flyway/sql', (db, dir) => ({
      image: MigrationTool.FLYWAY_IMAGE,
      command: ['flyway', 'migrate'],
      env: {
        FLYWAY_URL: literalEnv(db.jdbcUrl),
        FLYWAY_USER: db.username,
        FLYWAY_PASSWORD: db.password,
        FLYWAY_LOCATIONS: literalEnv(`filesystem:${dir}`),
      },
      resources: JVM_RESOURCES,
      scratchPath: '/tmp',
      lock: 'Flyway takes a database lock (PostgreSQL advisory lock) for the whole migrate',
    }));
  }

  /**
   * Liquibase: `liquibase update`, configured by LIQUIBASE_COMMAND_URL,
   * LIQUIBASE_COMMAND_USERNAME, LIQUIBASE_COMMAND_PASSWORD,
   * LIQUIBASE_COMMAND_CHANGELOG_FILE and LIQUIBASE_SEARCH_PATH. Concurrent runs
   * wait on the DATABASECHANGELOGLOCK table; a pod killed mid-update can leave
   * the lock held (`liquibase release-locks` clears it).
   */
  public static liquibase(options: LiquibaseOptions = {}): MigrationTool {
    const changelog = options.changelogFile ?? 'changelog.xml';
    assertRelativePath('MigrationTool.liquibase', 'changelogFile', changelog);
    return new MigrationTool('liquibase', '/liquibase/changelog', (db, dir) => ({
      image: MigrationTool.LIQUIBASE_IMAGE,
      command: ['liquibase', 'update'],
      // No LIQUIBASE_ANALYTICS_ENABLED: analytics came with 4.30, and 4.28 warns
      // that the variable is invalid. Set it to false when bumping the image.
      env: {
        LIQUIBASE_COMMAND_URL: literalEnv(db.jdbcUrl),
        LIQUIBASE_COMMAND_USERNAME: db.username,
        LIQUIBASE_COMMAND_PASSWORD: db.password,
        LIQUIBASE_COMMAND_CHANGELOG_FILE: literalEnv(changelog),
        LIQUIBASE_SEARCH_PATH: literalEnv(dir),
        HOME: literalEnv('/tmp'),
      },
      resources: JVM_RESOURCES,
      scratchPath: '/tmp',
      lock: 'Liquibase waits on its DATABASECHANGELOGLOCK row; a killed pod can leave it held (liquibase release-locks)',
    }));
  }

  /**
   * golang-migrate: `migrate -path <dir> -database postgres://host:port/db?sslmode=… up`.
   * The URL carries no credentials: the postgres driver (lib/pq) reads PGUSER
   * and PGPASSWORD. Concurrent runs are serialized by an advisory lock; a failed
   * migration leaves the version "dirty" until `migrate force`.
   */
  public static golangMigrate(): MigrationTool {
    return new MigrationTool('golang-migrate', '/migrations', (db, dir) => {
      assertPostgres('golangMigrate', db);
      return {
        image: MigrationTool.GOLANG_MIGRATE_IMAGE,
        command: ['migrate'],
        args: ['-path', kubeletLiteral(dir), '-database', db.postgresUrl, 'up'],
        env: { PGUSER: db.username, PGPASSWORD: db.password },
        resources: GO_RESOURCES,
        lock: 'golang-migrate takes a PostgreSQL advisory lock; a failed migration leaves the version dirty until `migrate force`',
      };
    });
  }

  /**
   * Atlas: `atlas migrate apply --url postgres://host:port/db?sslmode=… --dir file://<dir>`
   * (the image's entrypoint is atlas). Credentials come from PGUSER and
   * PGPASSWORD. Concurrent runs are serialized by an advisory lock.
   */
  public static atlas(): MigrationTool {
    return new MigrationTool('atlas', '/migrations', (db, dir) => {
      assertPostgres('atlas', db);
      return {
        image: MigrationTool.ATLAS_IMAGE,
        args: ['migrate', 'apply', '--url', db.postgresUrl, '--dir', kubeletLiteral(`file://${fileUrlPath(dir)}`)],
        env: { PGUSER: db.username, PGPASSWORD: db.password },
        resources: GO_RESOURCES,
        lock: 'Atlas takes a PostgreSQL advisory lock for migrate apply',
      };
    });
  }

  /**
   * Any other tool. It must be safe to run from several pods at once, or be run
   * as a `MigrationJob`.
   */
  public static custom(options: CustomMigrationToolOptions): MigrationTool {
    const migrationsPath = options.migrationsPath ?? '/migrations';
    assertMountPath('MigrationTool.custom', migrationsPath);
    return new MigrationTool('custom', migrationsPath, (db, dir) => ({
      image: options.image,
      command: options.command,
      // Only whole arguments: a path inside a URL or a flag is not the migrations directory.
      args: options.args?.map(a => a === migrationsPath ? kubeletLiteral(dir) : a),
      env: {
        DB_HOST: literalEnv(db.host),
        DB_PORT: literalEnv(String(db.port)),
        DB_NAME: literalEnv(db.database),
        DB_USER: db.username,
        DB_PASSWORD: db.password,
        DB_JDBC_URL: literalEnv(db.jdbcUrl),
        MIGRATIONS_DIR: literalEnv(dir),
        ...db.engine === DatabaseEngine.POSTGRESQL ? {
          PGHOST: literalEnv(db.host),
          PGPORT: literalEnv(String(db.port)),
          PGDATABASE: literalEnv(db.database),
          PGUSER: db.username,
          PGPASSWORD: db.password,
          PGSSLMODE: literalEnv(db.sslMode),
        } : {},
      },
      resources: {},
      lock: 'custom tool: its own locking, if any',
    }));
  }

  private constructor(
    /** The tool's name ("flyway", "liquibase", "golang-migrate", "atlas" or "custom"). */
    public readonly toolName: string,
    /** Where the tool reads migrations unless `MigrationSource.inImage(path)` says otherwise. */
    public readonly migrationsPath: string,
    private readonly binder: (db: DatabaseConnection, dir: string) => Omit<BoundMigrationTool, 'migrationsPath'>,
  ) {
    brand(this, MIGRATION_TOOL_BRAND);
  }

  /**
   * Resolves the tool for a database, reading migrations from `dir`.
   * @internal
   */
  public _bind(db: DatabaseConnection, dir: string = this.migrationsPath): BoundMigrationTool {
    return { ...this.binder(db, dir), migrationsPath: dir };
  }
}

// A path as the path of a file:// URL: each segment percent-encoded.
function fileUrlPath(dir: string): string {
  return dir.split('/').map(encodeURIComponent).join('/');
}

function assertPostgres(tool: string, db: DatabaseConnection): void {
  if (db.engine !== DatabaseEngine.POSTGRESQL) {
    throw new Error(`MigrationTool.${tool}: supports PostgreSQL only here, because its URL would have to carry the ${db.engine} password; use flyway() or liquibase()`);
  }
}
