import { assertPinnedImage } from '../../src/private/image';

const DIGEST = 'sha256:' + 'a'.repeat(64);

describe('assertPinnedImage', () => {
  test.each([
    'busybox:1.36.1',
    'docker.io/library/busybox:1.36.1',
    'registry.example.com:5000/team/tool:v2.3-alpine',
    `busybox@${DIGEST}`,
    `busybox:1.36@${DIGEST}`,
    `localhost/tool@${DIGEST}`,
  ])('accepts %s', image => {
    expect(() => assertPinnedImage('Step s', image)).not.toThrow();
  });

  test('rejects an empty image', () => {
    expect(() => assertPinnedImage('Step s', '')).toThrow('Step s: image is empty');
  });

  test.each(['busybox', 'registry.example.com:5000/team/tool'])('rejects untagged %s', image => {
    expect(() => assertPinnedImage('Step s', image)).toThrow(/has no tag/);
  });

  test.each(['busybox:latest', 'ghcr.io/x/y:latest'])('rejects %s', image => {
    expect(() => assertPinnedImage('Step s', image)).toThrow(/"latest" tag/);
  });

  test.each(['Busybox:1', 'busybox:1.0 ; rm -rf /', 'busybox@sha256:short', 'busybox:'])('rejects malformed %j', image => {
    expect(() => assertPinnedImage('Step s', image)).toThrow(/not a valid image reference/);
  });
});
