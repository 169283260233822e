import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { MigrationSource } from './migration-source';
import { MigrationTool } from './migration-tool';
import { WaitForService } from './wait-for-service';
import { DatabaseConnection } from '../database';
import { DatabaseProxy } from '../database-proxy';
import { InitStep, InitStepOptions } from '../init-step';
import { assertOwn } from '../private/identity';
import { DATABASE_CONNECTION_BRAND, DATABASE_PROXY_BRAND, MIGRATION_SOURCE_BRAND, MIGRATION_TOOL_BRAND, PROXY_STARTED_BY_JOB } from '../private/migration-brands';
import { assertMountPath, assertRelativePath } from '../private/mount-paths';
import { suffixedLabel, toDns1123Label } from '../private/names';
import { withDefaultResources } from '../private/resources';
import { stepOwner } from '../private/step-values';
import { SharedVolume, SharedVolumeMount } from '../shared-volume';

/**
 * Properties of a `MigrationInit` step.
 */
export interface MigrationInitProps extends InitStepOptions {
  /** The tool: `MigrationTool.flyway()`, `.liquibase()`, `.golangMigrate()`, `.atlas()` or `.custom()`. */
  readonly tool: MigrationTool;

  /** The database, with the Secret holding its credentials. */
  readonly database: DatabaseConnection;

  /** Where the migrations are. */
  readonly migrations: MigrationSource;

  /**
   * Wait for the database's TCP port first, with a `WaitForService` step that
   * runs right before the migration.
   *
   * @default true
   */
  readonly waitForDatabase?: boolean;

  /**
   * Timeout of the wait for the database.
   *
   * @default Duration.minutes(5)
   */
  readonly waitTimeout?: Duration;

  /**
   * How long the migration is expected to take at most, for init plans. It is
   * not enforced: killing a migration midway is what leaves stale locks and
   * dirty versions behind.
   *
   * @default - unbounded
   */
  readonly expectedDuration?: Duration;

  /**
   * Image override, e.g. an image built from the tool's with migrations baked in.
   *
   * @default - the tool's pinned official image
   */
  readonly image?: string;

  /**
   * Reach the database through this proxy (e.g. `DatabaseProxy.cloudSqlProxy()`),
   * run as a native sidecar. The `database` must name the proxy's listener,
   * `new DatabaseConnection({ host: '127.0.0.1', port: <proxy port>, ... })`
   * (synthesis says so otherwise): the tool connects there, so the manifest
   * shows where it connects. In a workload, the proxy starts before the wait for
   * the database and the migration, and keeps running beside the app, which may
   * connect to it too. In a `MigrationJob`, it starts first in the Job's pod.
   * Native sidecars need Kubernetes 1.29 or later, declared with `KubernetesTarget`.
   *
   * @default - the tool connects to the database directly
   */
  readonly proxy?: DatabaseProxy;
}

/**
 * Runs schema migrations before the main containers start, with a pinned
 * official tool image, credentials only from a Secret, and (by default) a wait
 * for the database right before it.
 *
 * With a `proxy`, the steps are, in order: the proxy (a native sidecar, which
 * keeps running beside the app: the app can use it at the same address), the
 * wait for the database through it, and the migration through it.
 *
 * Every replica runs its init containers, so several pods may migrate at once:
 * each preset relies on its tool's lock (see `MigrationTool`). Where that is not
 * wanted, run the migration once as a `MigrationJob` and let the app wait for it.
 */
export class MigrationInit extends InitStep {
  /** The database. */
  public readonly database: DatabaseConnection;

  /** The tool's name. */
  public readonly toolName: string;

  /** How concurrent runs are kept apart, as the tool documents it. */
  public readonly lockBehaviour: string;

  /** The wait for the database, if any. */
  public readonly databaseWait?: WaitForService;

  /** The proxy's native sidecar, which runs before the wait and the migration, if the migration goes through a proxy. */
  public readonly proxySidecar?: InitStep;

  constructor(scope: Construct, id: string, props: MigrationInitProps) {
    const owner = stepOwner('MigrationInit', scope, id);
    assertOwn(owner, 'tool', props.tool, MigrationTool, MIGRATION_TOOL_BRAND, 'a MigrationTool');
    assertOwn(owner, 'database', props.database, DatabaseConnection, DATABASE_CONNECTION_BRAND, 'a DatabaseConnection');
    assertOwn(owner, 'migrations', props.migrations, MigrationSource, MIGRATION_SOURCE_BRAND, 'a MigrationSource');
    const waitForDatabase = props.waitForDatabase ?? true;
    if (props.proxy !== undefined) {
      assertOwn(owner, 'proxy', props.proxy, DatabaseProxy, DATABASE_PROXY_BRAND, 'a DatabaseProxy');
      props.proxy._assertServes(owner, props.database, waitForDatabase);
    }
    // The tool is bound to the directory it reads, so the path lands only where it is a path.
    const inImagePath = props.migrations.kind === 'image' ? props.migrations.path : undefined;
    if (inImagePath !== undefined) assertMountPath(owner, inImagePath);
    const tool = props.tool._bind(props.database, inImagePath);
    const name = props.name ?? toDns1123Label(id);
    const reads = migrationMounts(scope, owner, name, props.migrations, tool.migrationsPath);
    super(scope, id, {
      ...props,
      image: props.image ?? tool.image,
      command: tool.command,
      args: tool.args,
      env: tool.env,
      resources: withDefaultResources(props.resources, tool.resources),
      reads,
      scratchPath: tool.scratchPath,
      timeout: props.expectedDuration,
      description: `migrates ${props.database.endpoint}/${props.database.database} with ${props.tool.toolName}` +
        (props.proxy ? ` through ${props.proxy.description}` : ''),
    });
    this.database = props.database;
    this.toolName = props.tool.toolName;
    this.lockBehaviour = tool.lock;
    if (props.proxy) {
      this.proxySidecar = props.proxy._sidecar(this, 'proxy', suffixedLabel(this.name, 'proxy'));
      if ((props as { [PROXY_STARTED_BY_JOB]?: boolean })[PROXY_STARTED_BY_JOB] !== true) this.addPrerequisite(this.proxySidecar);
    }
    if (waitForDatabase) {
      this.databaseWait = new WaitForService(this, 'wait-for-db', {
        name: suffixedLabel(this.name, 'wait-db'),
        targets: props.proxy ? props.proxy._waitTargets(props.database) : [props.database.waitTarget],
        timeout: props.waitTimeout,
      });
      this.addPrerequisite(this.databaseWait);
    }
  }
}

function migrationMounts(scope: Construct, owner: string, name: string, source: MigrationSource, path: string): SharedVolumeMount[] {
  switch (source.kind) {
    case 'configmap': {
      const volumeName = suffixedLabel(name, 'migrations');
      const id = `${name}-migrations`;
      const volume = kplus.Volume.fromConfigMap(scope, `${id}-volume`, source.configMap!, { name: volumeName });
      return [{ volume: new SharedVolume(scope, id, { volume }), path }];
    }
    case 'volume':
      if (source.subPath !== undefined) assertRelativePath(owner, 'migrations sub-path', source.subPath);
      return [{ volume: source.volume!, path, subPath: source.subPath }];
    default:
      return [];
  }
}

