import { assertAbsolutePath, assertDistinctOutputs, assertMountPath, assertNoOverlappingMounts, pathsOverlap } from '../../src/private/mount-paths';

describe('mount paths', () => {
  test.each(['/data', '/app/data'])('accepts %s', p => {
    expect(() => assertMountPath('S', p)).not.toThrow();
  });

  test('rejects "/", which would hide the whole filesystem; as a working directory it is fine', () => {
    expect(() => assertMountPath('S', '/')).toThrow('S: mount path "/" would hide the container\'s whole filesystem');
    expect(() => assertAbsolutePath('S', 'workingDir', '/')).not.toThrow();
    expect(() => assertAbsolutePath('S', 'workingDir', 'tmp')).toThrow('S: workingDir "tmp" must be absolute');
  });

  test.each(['data', './data', ''])('rejects relative %j', p => {
    expect(() => assertMountPath('S', p)).toThrow(/must be absolute/);
  });

  test.each(['/data/', '/a//b', '/a/../b', '/a/./b', '/a:b'])('rejects unnormalized %j', p => {
    expect(() => assertMountPath('S', p)).toThrow(/not a normalized path/);
  });

  test('overlap is equality or nesting, not a shared prefix', () => {
    expect(pathsOverlap('/data', '/data')).toBe(true);
    expect(pathsOverlap('/data', '/data/x')).toBe(true);
    expect(pathsOverlap('/data/x', '/data')).toBe(true);
    expect(pathsOverlap('/', '/data')).toBe(true);
    expect(pathsOverlap('/data', '/database')).toBe(false);
  });

  test('assertNoOverlappingMounts names both paths', () => {
    expect(() => assertNoOverlappingMounts('S', ['/a', '/b', '/a/c'])).toThrow('S: mount paths "/a" and "/a/c" overlap');
    expect(() => assertNoOverlappingMounts('S', ['/a', '/b'])).not.toThrow();
  });
});

describe('assertDistinctOutputs', () => {
  test('the same path twice, or one inside another, names both', () => {
    expect(() => assertDistinctOutputs('S', 'path', ['a', 'b', 'a'])).toThrow('S: path "a" is given twice');
    expect(() => assertDistinctOutputs('S', 'path', ['a/b/c', 'x', 'a'])).toThrow('S: paths "a/b/c" and "a" overlap: "a/b/c" is inside "a"; give each its own path');
    expect(() => assertDistinctOutputs('S', 'path', ['a', 'ab', 'a.b', 'b/a'])).not.toThrow();
  });
});
