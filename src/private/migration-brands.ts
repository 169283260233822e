/** Brand of `DatabaseConnection` objects. */
export const DATABASE_CONNECTION_BRAND = Symbol.for('cdk8s-init.DatabaseConnection');

/** Brand of `MigrationTool` objects. */
export const MIGRATION_TOOL_BRAND = Symbol.for('cdk8s-init.MigrationTool');

/** Brand of `MigrationSource` objects. */
export const MIGRATION_SOURCE_BRAND = Symbol.for('cdk8s-init.MigrationSource');

/** Brand of `DatabaseProxy` objects, so one from another copy of the library is named as such. */
export const DATABASE_PROXY_BRAND = Symbol.for('cdk8s-init.DatabaseProxy');

/**
 * Set on a MigrationInit's props by `MigrationJob`, which starts the proxy
 * itself, first in the Job's pod (before its `initSteps`): the proxy is then no
 * prerequisite of the migration.
 */
export const PROXY_STARTED_BY_JOB = Symbol.for('cdk8s-init.MigrationInit.proxyStartedByJob');
