import * as kplus from 'cdk8s-plus-27';
import { InitSequence, InitStep, StepSecurity } from '../src';
import { newChart } from './util/fixtures';
import { initContainersOf, synthValid } from './util/manifest';

describe('StepSecurity', () => {
  describe('uid and gid must be integers the API server accepts (0 to 2147483647)', () => {
    test.each([
      ['restricted', 'user', 2147483648, 'uid'],
      ['restricted', 'user', -1, 'uid'],
      ['restricted', 'user', 1.5, 'uid'],
      ['restricted', 'user', NaN, 'uid'],
      ['restricted', 'group', 2147483648, 'gid'],
      ['restricted', 'group', -5, 'gid'],
      ['optOut', 'user', 4294967295, 'uid'],
      ['optOut', 'user', Infinity, 'uid'],
      ['optOut', 'group', 2 ** 31, 'gid'],
      ['optOut', 'group', 0.5, 'gid'],
    ])('%s with %s %p fails naming the value', (method, field, value, kind) => {
      const make = () => method === 'restricted'
        ? StepSecurity.restricted({ [field]: value })
        : StepSecurity.optOut({ reason: 'test', [field]: value });
      expect(make).toThrow(`StepSecurity.${method}: ${field} ${value} is not a valid ${kind}; give an integer from 0 to 2147483647`);
    });

    test('the bounds are accepted and reach the manifest', () => {
      const chart = newChart();
      const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
      InitSequence.of(pod).add(new InitStep(chart, 'max', {
        image: 'busybox:1.36.1', security: StepSecurity.restricted({ user: 2147483647, group: 0 }),
      }));
      expect(initContainersOf(synthValid(chart))[0].securityContext).toMatchObject({ runAsUser: 2147483647, runAsGroup: 0 });
      expect(StepSecurity.optOut({ reason: 'r', user: 0, group: 2147483647 }).context).toMatchObject({ user: 0, group: 2147483647 });
    });
  });

  describe('an opt-out waives only the rules it breaks', () => {
    test('running as root: run-as-non-root', () => {
      expect(StepSecurity.optOut({ reason: 'r' }).waivedRules).toEqual(['run-as-non-root']);
    });

    test('each added capability on its own; NET_BIND_SERVICE needs no waiver', () => {
      const security = StepSecurity.optOut({
        reason: 'r', user: 1000, addCapabilities: [kplus.Capability.CHOWN, kplus.Capability.NET_BIND_SERVICE, kplus.Capability.SYS_ADMIN],
      });
      expect(security.waivedRules).toEqual(['capabilities.CHOWN', 'capabilities.SYS_ADMIN']);
      expect(security.isRestricted).toBe(false);
    });

    test('a writable root filesystem: read-only-root-filesystem', () => {
      expect(StepSecurity.optOut({ reason: 'r', user: 1000, readOnlyRootFilesystem: false }).waivedRules).toEqual(['read-only-root-filesystem']);
    });

    test('an opt-out that breaks nothing is restricted and records no waiver', () => {
      const chart = newChart();
      const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
      const security = StepSecurity.optOut({ reason: 'listens on 80', user: 1000, addCapabilities: [kplus.Capability.NET_BIND_SERVICE] });
      expect([security.isRestricted, security.waivedRules]).toEqual([true, []]);
      InitSequence.of(pod).add(new InitStep(chart, 'step', { image: 'busybox:1.36.1', security }));
      expect(synthValid(chart)[0].metadata.annotations).toBeUndefined();
    });

    test('restricted waives nothing', () => {
      expect(StepSecurity.restricted().waivedRules).toEqual([]);
    });
  });
});
