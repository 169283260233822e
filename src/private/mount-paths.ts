/**
 * Path rules. Mount paths: absolute, normalized, not "/", and no two mounts of
 * one container at the same or nested paths (the API server rejects duplicates;
 * nested mounts silently shadow each other depending on order). Paths inside a
 * volume: relative, without "..". File modes: octal permission bits.
 */

import { memoized } from './step-values';

/**
 * Throws unless `path` is an absolute, normalized POSIX path ("/" included).
 *
 * @param owner the construct path named in the error
 * @param what what the path is, e.g. "workingDir"
 */
export function assertAbsolutePath(owner: string, what: string, path: string): void {
  const problem = typeof path === 'string' ? absolutePathProblem(path) : NOT_ABSOLUTE;
  if (problem) throw new Error(`${owner}: ${what} ${JSON.stringify(path)} ${problem}`);
}

const NOT_ABSOLUTE = 'must be absolute (start with "/")';

// Steps of every workload mount the same few paths: each is checked once.
const absolutePathProblem = memoized((path: string): string | undefined => {
  if (!path.startsWith('/')) return NOT_ABSOLUTE;
  const segments = path.split('/').slice(1);
  const bad = path !== '/' && segments.some(s => s === '' || s === '.' || s === '..');
  if (bad || path.includes(':') || /[\0\n]/.test(path)) return 'is not a normalized path (no "//", ".", ".." or ":")';
  return undefined;
});

/**
 * Throws unless `path` is an absolute, normalized POSIX path other than "/":
 * a volume at "/" would hide the image's whole filesystem.
 */
export function assertMountPath(owner: string, path: string): void {
  assertAbsolutePath(owner, 'mount path', path);
  if (path === '/') {
    throw new Error(`${owner}: mount path "/" would hide the container's whole filesystem; mount the volume at a directory such as "/data"`);
  }
}

/** Whether `assertMountPath` accepts `path`, without building the owner its error would name. */
export function isMountPath(path: string): boolean {
  return typeof path === 'string' && path !== '/' && absolutePathProblem(path) === undefined;
}

/** True when one path equals the other or contains it. */
export function pathsOverlap(a: string, b: string): boolean {
  return within(a, b) || within(b, a);
}

/** Whether `inner` is `outer` or a path inside it (without building `outer + '/'`: this runs for every pair of mounts). */
function within(inner: string, outer: string): boolean {
  if (inner === outer) return true;
  if (!inner.startsWith(outer)) return false;
  return outer.endsWith('/') || inner.charCodeAt(outer.length) === SLASH;
}

const SLASH = '/'.charCodeAt(0);

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

/**
 * Throws when two outputs of one step are the same path or one is inside the
 * other ("a" and "a/b"): the second would replace, or need a directory at, the first.
 *
 * @param owner the construct path named in the error
 * @param what what the paths are, e.g. "path"
 */
export function assertDistinctOutputs(owner: string, what: string, paths: string[]): void {
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const [a, b] = [paths[i], paths[j]];
      if (a === b) throw new Error(`${owner}: ${what} ${JSON.stringify(a)} is given twice`);
      if (pathsOverlap(a, b)) {
        const [outer, inner] = a.length < b.length ? [a, b] : [b, a];
        throw new Error(`${owner}: ${what}s ${JSON.stringify(a)} and ${JSON.stringify(b)} overlap: ${JSON.stringify(inner)} is inside ${JSON.stringify(outer)}; give each its own path`);
      }
    }
  }
}

const RELATIVE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Whether `path` passes `assertRelativePath`: each path is checked once. */
const validRelativePaths = memoized((path: string): boolean =>
  RELATIVE_PATH.test(path) && !path.split('/').some(s => s === '.' || s === '..') && !path.startsWith('-'));

/**
 * Throws unless `path` is a relative path inside a volume: letters, digits,
 * ".", "_" and "-" segments, no "." or ".." segment, no leading "/" or "-".
 *
 * @param owner the construct path named in the error
 * @param what what the path is, e.g. "subPath"
 */
export function assertRelativePath(owner: string, what: string, path: string): void {
  if (typeof path === 'string' && validRelativePaths(path)) return;
  const segments = typeof path === 'string' ? path.split('/') : [];
  if (!RELATIVE_PATH.test(path) || segments.some(s => s === '.' || s === '..') || path.startsWith('-')) {
    throw new Error(`${owner}: ${what} ${JSON.stringify(path)} must be a relative path of letters, digits, ".", "_" and "-" (no "..", no leading "/" or "-")`);
  }
}

/**
 * Returns `mode` as 4 octal digits ("0644") for chmod, or throws unless it is a
 * whole number from 0 to `max`.
 */
export function fileModeString(owner: string, mode: number, max: number = 0o777): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > max) {
    throw new Error(`${owner}: mode ${JSON.stringify(mode)} is not a file mode from 0o000 to 0o${max.toString(8)}`);
  }
  return mode.toString(8).padStart(4, '0');
}
