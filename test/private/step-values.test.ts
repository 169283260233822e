import { Duration } from 'cdk8s';
import { durationMillis, timeoutSeconds } from '../../src/private/step-values';

describe('timeoutSeconds', () => {
  test('whole seconds, rounded up', () => {
    expect(timeoutSeconds('S', 'timeout', Duration.seconds(1))).toBe(1);
    expect(timeoutSeconds('S', 'timeout', Duration.millis(1001))).toBe(2);
    expect(timeoutSeconds('S', 'timeout', Duration.minutes(2))).toBe(120);
  });

  test.each([
    [Duration.millis(999), '999 millis is under 1 second; give at least Duration.seconds(1)'],
    [Duration.seconds(0), '0 seconds is under 1 second'],
    [Duration.seconds(0.5), '500 millis is under 1 second'],
    [Duration.seconds(NaN), 'NaN is not a finite duration'],
    [Duration.minutes(NaN), 'NaN is not a finite duration'],
    [Duration.seconds(Infinity), 'Infinity days is not a finite duration'],
  ])('rejects %s, naming the value (never silently 1 s)', (d, message) => {
    expect(() => timeoutSeconds('Step x', 'timeout', d)).toThrow(`Step x: timeout ${message}`);
  });

  test('something that is not a Duration', () => {
    expect(() => timeoutSeconds('Step x', 'timeout', 30 as any)).toThrow('Step x: timeout 30 is not a Duration');
  });
});

describe('durationMillis', () => {
  test('fractional milliseconds pass; NaN names itself', () => {
    expect(durationMillis('S', 'minInterval', Duration.millis(10))).toBe(10);
    expect(() => durationMillis('S', 'minInterval', Duration.millis(NaN))).toThrow('S: minInterval NaN is not a finite duration');
  });
});
