/**
 * Every init container costs pod start time: waits that can share a container do.
 */
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  DatabaseConnection, InitPlan, InitSequence, MigrationInit, MigrationSource, MigrationTool, WaitForService, WaitTarget,
} from '../../src';
import { runContainer, testContainers } from '../util/container';
import { newChart } from '../util/fixtures';
import { initContainersOf, synthValid } from '../util/manifest';
import { freePort, tcpListenerAfter } from '../util/servers';

const env = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));

test('adjacent waits become one container checking every target in parallel', () => {
  const chart = newChart();
  const d = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(d).add(
    new WaitForService(chart, 'wait-db', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })] }),
    new WaitForService(chart, 'wait-cache', { targets: [WaitTarget.tcp({ host: 'redis', port: 6379 }), WaitTarget.tcp({ host: 'db', port: 5432 })] }),
  );
  const containers = initContainersOf(synthValid(chart));
  expect(containers.map(c => c.name)).toEqual(['wait-db']);
  expect(env(containers[0]).WAIT_TARGETS).toBe('tcp db 5432\ntcp redis 6379');
});

test('three adjacent waits are one container too', () => {
  const chart = newChart();
  const d = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(d).add(...['a', 'b', 'c'].map(host => new WaitForService(chart, `wait-${host}`, { targets: [WaitTarget.tcp({ host, port: 1 })] })));
  const containers = initContainersOf(synthValid(chart));
  expect(containers.map(c => c.name)).toEqual(['wait-a']);
  expect(env(containers[0]).WAIT_TARGETS).toBe('tcp a 1\ntcp b 1\ntcp c 1');
});

test('waits with different settings, or a step that asks not to, keep their own containers', () => {
  const chart = newChart();
  const d = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(d).add(
    new WaitForService(chart, 'a', { targets: [WaitTarget.tcp({ host: 'a', port: 1 })] }),
    new WaitForService(chart, 'b', { targets: [WaitTarget.tcp({ host: 'b', port: 1 })], timeout: Duration.minutes(1) }),
    new WaitForService(chart, 'c', { targets: [WaitTarget.tcp({ host: 'c', port: 1 })], timeout: Duration.minutes(1), mergeAdjacent: false }),
    new WaitForService(chart, 'd', { targets: [WaitTarget.http({ host: 'd', https: true })], timeout: Duration.minutes(1) }),
  );
  expect(initContainersOf(synthValid(chart)).map(c => c.name)).toEqual(['a', 'b', 'c', 'd']);
});

test('a migration\'s database wait that an earlier step already waited for is left out', () => {
  const chart = newChart();
  const d = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  const database = new DatabaseConnection({ host: 'postgres', database: 'shop', credentials: new kplus.Secret(chart, 'db', {}) });
  InitSequence.of(d).add(
    new WaitForService(chart, 'wait-deps', { targets: [WaitTarget.tcp({ host: 'postgres', port: 5432 }), WaitTarget.tcp({ host: 'redis', port: 6379 })] }),
    new MigrationInit(chart, 'migrate', { tool: MigrationTool.flyway(), database, migrations: MigrationSource.inImage() }),
  );
  expect(initContainersOf(synthValid(chart)).map(c => c.name)).toEqual(['wait-deps', 'migrate']);
});

testContainers('the merged container really waits for both steps\' targets', async () => {
  const first = tcpListenerAfter(await freePort(), 0);
  const second = tcpListenerAfter(await freePort(), 300);
  try {
    const chart = newChart();
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(
      new WaitForService(chart, 'a', { targets: [WaitTarget.tcp({ host: '127.0.0.1', port: first.port })], timeout: Duration.seconds(10) }),
      new WaitForService(chart, 'b', { targets: [WaitTarget.tcp({ host: '127.0.0.1', port: second.port })], timeout: Duration.seconds(10) }),
    );
    const [container] = initContainersOf(synthValid(chart));
    const result = await runContainer(container);
    expect(result.code).toBe(0);
    expect(result.output).toContain(`127.0.0.1:${second.port} is ready`);
    expect(result.lastLine).toMatch(/all 2 targets ready/);
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});

test('the plan describes a merged wait container by every step it runs', () => {
  const chart = newChart();
  const d = new kplus.Deployment(chart, 'web', { containers: [{ name: 'web', image: 'web:1.0' }] });
  InitSequence.of(d).add(
    new WaitForService(chart, 'wait-db', { targets: [WaitTarget.tcp({ host: 'db', port: 5432 })] }),
    new WaitForService(chart, 'wait-cache', { targets: [WaitTarget.tcp({ host: 'redis', port: 6379 })] }),
  );
  expect(InitPlan.of(d).steps.map(s => [s.name, s.description])).toEqual([['wait-db', 'waits for db:5432; waits for redis:6379']]);
});
