import { assertDns1123Label, isDns1123Label, suffixedLabel, toDns1123Label } from '../src/names';

describe('toDns1123Label', () => {
  test.each([
    ['init-myservice', 'init-myservice'],
    ['Wait For DB', 'wait-for-db'],
    ['wait_for_db', 'wait-for-db'],
    ['--Fetch..Config--', 'fetch-config'],
    ['x'.repeat(80), 'x'.repeat(63)],
  ])('%s -> %s', (id, label) => {
    expect(toDns1123Label(id)).toBe(label);
    expect(isDns1123Label(label)).toBe(true);
  });

  test('nothing usable left gives an empty string', () => {
    expect(toDns1123Label('___')).toBe('');
  });
});

describe('assertDns1123Label', () => {
  test.each(['Upper', 'ends-', '-starts', 'has_underscore', 'a'.repeat(64), ''])('rejects %j', bad => {
    expect(() => assertDns1123Label('Owner x', 'container name', bad)).toThrow(/Owner x: container name .* is not a valid DNS-1123 label/);
  });
});

describe('suffixedLabel', () => {
  test('keeps short names whole', () => {
    expect(suffixedLabel('migrate', 'wait-db')).toBe('migrate-wait-db');
  });

  test('shortens the base so the label fits in 63 characters, without a dangling "-"', () => {
    const label = suffixedLabel(`${'a'.repeat(50)}-${'b'.repeat(12)}`, 'scratch');
    expect(label).toBe(`${'a'.repeat(50)}-${'b'.repeat(4)}-scratch`);
    expect(label).toHaveLength(63);
    expect(suffixedLabel(`${'a'.repeat(55)}-xyz`, 'scratch')).toBe(`${'a'.repeat(55)}-scratch`);
    expect(isDns1123Label(suffixedLabel('x'.repeat(63), 'migrations'))).toBe(true);
  });
});
