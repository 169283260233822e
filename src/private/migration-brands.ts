/** Brand of `DatabaseConnection` objects. */
export const DATABASE_CONNECTION_BRAND = Symbol.for('cdk8s-init.DatabaseConnection');

/** Brand of `MigrationTool` objects. */
export const MIGRATION_TOOL_BRAND = Symbol.for('cdk8s-init.MigrationTool');

/** Brand of `MigrationSource` objects. */
export const MIGRATION_SOURCE_BRAND = Symbol.for('cdk8s-init.MigrationSource');
