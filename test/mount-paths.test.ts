import { assertMountPath, assertNoOverlappingMounts, pathsOverlap } from '../src/mount-paths';

describe('mount paths', () => {
  test.each(['/data', '/app/data', '/'])('accepts %s', p => {
    expect(() => assertMountPath('S', p)).not.toThrow();
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
