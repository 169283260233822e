import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { SharedVolume } from '../src';
import { newChart } from './util/fixtures';

describe('SharedVolume: bad input fails at construction, naming the path and the value', () => {
  test.each([
    ['0 MiB', Size.mebibytes(0)],
    ['512 KiB', Size.kibibytes(512)],
    ['NaN KiB', Size.mebibytes(NaN)],
  ])('sizeLimit %s', (given, sizeLimit) => {
    expect(() => new SharedVolume(newChart(), 'cache', { sizeLimit }))
      .toThrow(`SharedVolume test/cache: sizeLimit ${given} must be a whole number of MiB, at least 1 (e.g. Size.mebibytes(64))`);
  });

  test('a positive whole number of MiB is the emptyDir limit', () => {
    const chart = newChart();
    const v = new SharedVolume(chart, 'cache', { sizeLimit: Size.gibibytes(1) });
    expect(v.volume._toKube().emptyDir?.sizeLimit?.value).toBe('1024Mi');
  });

  test('the name, before the construct exists', () => {
    const chart = newChart();
    expect(() => new SharedVolume(chart, 'data', { name: 'Data' })).toThrow('SharedVolume test/data: volume name "Data" is not a valid DNS-1123 label');
    expect(chart.node.tryFindChild('data')).toBeUndefined();
  });

  test('mounting at "/" is refused', () => {
    const chart = newChart();
    const v = new SharedVolume(chart, 'data');
    const d = new kplus.Deployment(chart, 'app', { containers: [{ name: 'app', image: 'app:1.0' }] });
    expect(() => v.mount(d.containers[0], '/')).toThrow('SharedVolume test/data in container "app": mount path "/" would hide the container\'s whole filesystem');
  });
});
