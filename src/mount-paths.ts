/**
 * Mount path rules: absolute, normalized, and no two mounts of one container at
 * the same or nested paths (the API server rejects duplicates; nested mounts
 * silently shadow each other depending on order).
 */

/** Throws unless `path` is an absolute, normalized POSIX path. */
export function assertMountPath(owner: string, path: string): void {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new Error(`${owner}: mount path ${JSON.stringify(path)} must be absolute (start with "/")`);
  }
  const segments = path.split('/').slice(1);
  const bad = path !== '/' && segments.some(s => s === '' || s === '.' || s === '..');
  if (bad || path.includes(':') || /[\0\n]/.test(path)) {
    throw new Error(`${owner}: mount path ${JSON.stringify(path)} is not a normalized path (no "//", ".", ".." or ":")`);
  }
}

/** True when one path equals the other or contains it. */
export function pathsOverlap(a: string, b: string): boolean {
  const within = (inner: string, outer: string) =>
    inner === outer || inner.startsWith(outer.endsWith('/') ? outer : outer + '/');
  return within(a, b) || within(b, a);
}

/**
 * Throws when two of the given mount paths are equal or nested.
 *
 * @param owner the construct path named in the error
 */
export function assertNoOverlappingMounts(owner: string, paths: string[]): void {
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      if (pathsOverlap(paths[i], paths[j])) {
        throw new Error(`${owner}: mount paths ${JSON.stringify(paths[i])} and ${JSON.stringify(paths[j])} overlap; give each volume its own directory`);
      }
    }
  }
}
