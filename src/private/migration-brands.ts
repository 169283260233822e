import { brandOf, twoCopiesError } from './identity';

/** Brand of `DatabaseConnection` objects. */
export const DATABASE_CONNECTION_BRAND = Symbol.for('cdk8s-init.DatabaseConnection');

/** Brand of `MigrationTool` objects. */
export const MIGRATION_TOOL_BRAND = Symbol.for('cdk8s-init.MigrationTool');

/** Brand of `MigrationSource` objects. */
export const MIGRATION_SOURCE_BRAND = Symbol.for('cdk8s-init.MigrationSource');

/**
 * Throws unless `value` is an instance of `type` from this copy of the library:
 * the two-copies error when another copy made it, else "<what> must be <expected>".
 */
export function assertOwn(owner: string, what: string, value: unknown, type: Function, symbol: symbol, expected: string): void {
  if (value instanceof type) return;
  const other = brandOf(value, symbol);
  if (other) throw twoCopiesError(owner, what, other);
  throw new Error(`${owner}: ${what} must be ${expected}; got ${value === null || typeof value !== 'object' ? String(value) : value.constructor?.name ?? 'an object'}`);
}
