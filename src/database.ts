import * as kplus from 'cdk8s-plus-27';
import { assertPort, hostPort, normalizeHost, serviceEndpoint } from './private/endpoint';
import { brand } from './private/identity';
import { DATABASE_CONNECTION_BRAND } from './private/migration-brands';
import { WaitTarget } from './steps/wait-target';

/**
 * Database engines migrations can target.
 */
export enum DatabaseEngine {
  /** PostgreSQL (default port 5432). */
  POSTGRESQL = 'postgresql',
  /** MySQL (default port 3306). Flyway, Liquibase and custom tools only. */
  MYSQL = 'mysql',
}

/**
 * Properties of a `DatabaseConnection`.
 */
export interface DatabaseConnectionProps {
  /**
   * Engine.
   *
   * @default DatabaseEngine.POSTGRESQL
   */
  readonly engine?: DatabaseEngine;

  /**
   * Host name or IP address. Give this or `service`.
   *
   * @default - from `service`
   */
  readonly host?: string;

  /**
   * The database's cdk8s-plus Service; its namespace-qualified DNS name is the host.
   *
   * @default - use `host`
   */
  readonly service?: kplus.Service;

  /**
   * Port.
   *
   * @default - the service's first port, else 5432 (PostgreSQL) or 3306 (MySQL)
   */
  readonly port?: number;

  /** Database name. */
  readonly database: string;

  /** The Secret with the user name and password. They reach containers only through secretKeyRef. */
  readonly credentials: kplus.ISecret;

  /**
   * Key of the user name in `credentials`.
   *
   * @default "username"
   */
  readonly usernameKey?: string;

  /**
   * Key of the password in `credentials`.
   *
   * @default "password"
   */
  readonly passwordKey?: string;

  /**
   * PostgreSQL sslmode (disable, allow, prefer, require, verify-ca, verify-full).
   *
   * @default "prefer"
   */
  readonly sslMode?: string;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const DEFAULT_PORTS: Record<DatabaseEngine, number> = { [DatabaseEngine.POSTGRESQL]: 5432, [DatabaseEngine.MYSQL]: 3306 };

/**
 * Where a database is and which Secret holds its credentials. Connection URLs
 * built from it never contain the password: tools get it from an env var backed
 * by a secretKeyRef (FLYWAY_PASSWORD, LIQUIBASE_COMMAND_PASSWORD, PGPASSWORD, ...).
 */
export class DatabaseConnection {
  /** Engine. */
  public readonly engine: DatabaseEngine;
  /** Host, normalized. */
  public readonly host: string;
  /** Port. */
  public readonly port: number;
  /** Database name. */
  public readonly database: string;
  /** PostgreSQL sslmode. */
  public readonly sslMode: string;
  private readonly props: DatabaseConnectionProps;

  constructor(props: DatabaseConnectionProps) {
    const owner = 'DatabaseConnection';
    brand(this, DATABASE_CONNECTION_BRAND);
    this.props = props;
    this.engine = props.engine ?? DatabaseEngine.POSTGRESQL;
    if ((props.host === undefined) === (props.service === undefined)) {
      throw new Error(`${owner}: give exactly one of host or service`);
    }
    if (props.service) {
      const endpoint = serviceEndpoint(owner, props.service, props.port);
      this.host = endpoint.host;
      this.port = endpoint.port;
    } else {
      this.host = normalizeHost(owner, props.host!);
      this.port = props.port ?? DEFAULT_PORTS[this.engine];
    }
    assertPort(owner, this.port);
    if (typeof props.database !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/.test(props.database)) {
      throw new Error(`${owner}: database name ${JSON.stringify(props.database)} must be 1-63 letters, digits, "_" or "-"`);
    }
    this.database = props.database;
    this.sslMode = props.sslMode ?? 'prefer';
    if (!SSL_MODES.includes(this.sslMode)) {
      throw new Error(`${owner}: sslMode ${JSON.stringify(this.sslMode)} is not one of ${SSL_MODES.join(', ')}`);
    }
  }

  /** "host:port". */
  public get endpoint(): string {
    return hostPort(this.host, this.port);
  }

  /** JDBC URL, without credentials. */
  public get jdbcUrl(): string {
    if (this.engine === DatabaseEngine.MYSQL) return `jdbc:mysql://${this.endpoint}/${this.database}`;
    return `jdbc:postgresql://${this.endpoint}/${this.database}?sslmode=${this.sslMode}`;
  }

  /**
   * libpq-style URL without credentials (postgres://host:port/db?sslmode=...); the
   * tools that take it (golang-migrate, Atlas) read the user and password from
   * PGUSER and PGPASSWORD.
   */
  public get postgresUrl(): string {
    return `postgres://${this.endpoint}/${this.database}?sslmode=${this.sslMode}`;
  }

  /** The user name, as a secretKeyRef. */
  public get username(): kplus.EnvValue {
    return kplus.EnvValue.fromSecretValue({ secret: this.props.credentials, key: this.props.usernameKey ?? 'username' });
  }

  /** The password, as a secretKeyRef. */
  public get password(): kplus.EnvValue {
    return kplus.EnvValue.fromSecretValue({ secret: this.props.credentials, key: this.props.passwordKey ?? 'password' });
  }

  /** A TCP wait target for the database. */
  public get waitTarget(): WaitTarget {
    return WaitTarget.tcp({ host: this.host, port: this.port });
  }
}
