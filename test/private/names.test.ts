import { assertDns1123Label, isDns1123Label, suffixedLabel, toDns1123Label, truncationNote } from '../../src/private/names';

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

describe('truncationNote', () => {
  const long = 'fetch-configuration-for-the-billing-service-in-region-eu-west-1';
  test('names the ids that are equal only after the cut to 63 characters', () => {
    const [a, b] = [`${long}-primary`, `${long}-replica`];
    const label = toDns1123Label(a);
    expect(toDns1123Label(b)).toBe(label);
    expect(truncationNote(label, [a, b])).toBe(
      ` ("${a}" and "${b}" differ, but are equal after truncation to 63 characters: "${label}"; shorten one or give an explicit name)`);
  });

  test('suffixed labels: the full names given as origins', () => {
    const base = `${long}-abcdef`;
    const label = suffixedLabel(base, 'scratch');
    expect(suffixedLabel(`${long}-zzz`, 'scratch')).toBe(label);
    expect(truncationNote(label, [`${base}-scratch`, `${long}-zzz-scratch`])).toContain('equal after truncation to 63 characters');
  });

  test('says nothing when the ids are the same or equal without the cut', () => {
    expect(truncationNote('wait-for-db', ['wait-for-db', 'wait-for-db'])).toBe('');
    expect(truncationNote('wait-for-db', ['Wait For DB', 'wait_for_db'])).toBe('');
    expect(truncationNote('x', ['x'])).toBe('');
    // A step named "fetch" explicitly, whatever its long id, did not get its name by the cut.
    expect(truncationNote('fetch', [`${long}-primary`, 'fetch'])).toBe('');
  });
});
