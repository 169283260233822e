/**
 * One init sequence (an env file, then a wait for an HTTP service), defined
 * once and applied to a workload of every kind the library supports: Pod,
 * Deployment, StatefulSet, DaemonSet, Job and CronJob. On a real cluster each
 * reaches Ready (a Job: Complete; a CronJob: a Job it creates completes), with
 * the steps having run in order in its pod and the app reading their output.
 */
import { Chart, Cron } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { EnvFileInit, InitSequence, SharedVolume, WaitForService, WaitTarget } from '../../src';
import { APP_IMAGE, APP_RESOURCES, inNamespaces, podSpecOf, synthChart, toYaml, uniqueNamespace } from './util/chart-kit';
import { getJson, kubectl, logs } from './util/kube';
import { httpBehind } from './util/stand-ins';
import { applyManifests, KubeObject, workloadPod, workloadReady } from './util/workloads';

/**
 * For workloads that must end (Job, CronJob): the stand-in app does its checks
 * and starts serving; once it answers, it is stopped with SIGTERM, on which it
 * exits 0. If its checks fail it exits 1 first, and so does this.
 */
const RUN_ONCE = [
  '/stand-in-app & app=$!',
  'while kill -0 $app 2>/dev/null && ! wget -q -O /dev/null http://127.0.0.1:8080/healthz 2>/dev/null; do sleep 0.2; done',
  'kill -TERM $app 2>/dev/null',
  'wait $app',
].join('\n');

const KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;

/**
 * cdk8s-plus-27 writes CronJob as batch/v1, which Kubernetes serves from 1.21;
 * this cluster is 1.20, which serves the same fields as batch/v1beta1.
 */
function forKubernetes120(objects: KubeObject[]): KubeObject[] {
  return objects.map(o => (o.kind === 'CronJob' && o.apiVersion === 'batch/v1' ? { ...o, apiVersion: 'batch/v1beta1' } : o));
}

describe('one init sequence on every workload kind', () => {
  test('Pod, Deployment, StatefulSet, DaemonSet, Job and CronJob each start after their steps, which ran in order', async () => {
    const ns = uniqueNamespace('kinds');
    const { objects } = synthChart(ns, (chart: Chart) => {
      const backend = new kplus.Service(chart, 'backend', { metadata: { name: 'backend' }, ports: [{ port: 8080 }] });
      const settings = new SharedVolume(chart, 'settings', { medium: kplus.EmptyDirMedium.MEMORY });
      const sequence = new InitSequence(chart, 'standard-init', {
        steps: [
          new EnvFileInit(chart, 'write-env', {
            volume: settings,
            variables: {
              POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
              BACKEND_URL: kplus.EnvValue.fromValue(`http://backend.${ns}.svc:8080`),
            },
            group: 1000,
          }),
          new WaitForService(chart, 'wait-for-backend', { targets: [WaitTarget.httpService(backend, { path: '/healthz' })] }),
        ],
      });
      const container = (runOnce: boolean): kplus.ContainerProps => ({
        name: 'app',
        image: APP_IMAGE,
        resources: APP_RESOURCES,
        securityContext: { user: 1000, group: 1000 },
        ...runOnce ? { command: ['sh', '-c', RUN_ONCE] } : { portNumber: 8080 },
      });
      const workloads: kplus.AbstractPod[] = [
        new kplus.Pod(chart, 'pod', { containers: [container(false)] }),
        new kplus.Deployment(chart, 'deployment', { replicas: 1, containers: [container(false)] }),
        new kplus.StatefulSet(chart, 'statefulset', { replicas: 1, containers: [container(false)] }),
        new kplus.DaemonSet(chart, 'daemonset', { containers: [container(false)] }),
        new kplus.Job(chart, 'job', { containers: [container(true)] }),
        // Run by hand below (kubectl create job --from=cronjob/…): the schedule never fires during the test.
        new kplus.CronJob(chart, 'cronjob', { schedule: Cron.annually(), containers: [container(true)] }),
      ];
      for (const workload of workloads) {
        settings.mount(workload.containers[0], '/etc/app');
        sequence.applyTo(workload);
      }
    });
    const byKind = new Map(KINDS.map(kind => [kind, objects.find(o => o.kind === kind)!]));
    await inNamespaces([ns], async () => {
      // As synthesized: every kind got the same two init containers, in order, and the fsGroup that lets the app read the file.
      for (const [kind, o] of byKind) {
        const spec = podSpecOf(o);
        expect({ kind, init: spec.initContainers.map((c: any) => c.name), fsGroup: spec.securityContext.fsGroup })
          .toEqual({ kind, init: ['write-env', 'wait-for-backend'], fsGroup: 1000 });
      }

      // All at once, and the backend only afterwards: the waits hold every pod until it answers.
      const cronJob = byKind.get('CronJob')!.metadata.name;
      const manualJob = `${cronJob}-manual`.slice(0, 63);
      await applyManifests(toYaml(forKubernetes120(objects)));
      await kubectl(['create', 'job', '-n', ns, `--from=cronjob/${cronJob}`, manualJob]);
      await httpBehind(ns, 'backend');
      const fromCronJob: KubeObject = { kind: 'Job', apiVersion: 'batch/v1', metadata: { name: manualJob, namespace: ns } };
      await Promise.all([...KINDS.filter(k => k !== 'CronJob').map(k => workloadReady(byKind.get(k)!, 150_000)), workloadReady(fromCronJob, 150_000)]);

      const podOf = async (kind: typeof KINDS[number]) => kind === 'CronJob'
        ? (await getJson(['pods', '-n', ns, '-l', `job-name=${manualJob}`])).items[0]
        : workloadPod(byKind.get(kind)!);
      for (const kind of KINDS) {
        const pod = await podOf(kind);
        const name = pod.metadata.name;
        const [envLog, waitLog, appLog] = await Promise.all(['write-env', 'wait-for-backend', 'app'].map(c => logs(ns, name, c)));
        expect({ kind, envLog }).toEqual({ kind, envLog: expect.stringContaining('env-file: wrote 2 variable(s) to app.env') });
        expect({ kind, waitLog }).toEqual({ kind, waitLog: expect.stringMatching(/wait-for-service: all 1 targets ready after/) });
        expect({ kind, appLog }).toEqual({ kind, appLog: expect.stringContaining('app: /etc/app/app.env sets BACKEND_URL POD_NAME') });
        expect({ kind, appLog }).toEqual({ kind, appLog: expect.stringContaining('app: read 1 files in 1 volumes, wrote to 0') });
        // In order: the env file was written before the wait started, and the app started after the wait ended.
        const statuses = new Map<string, any>([...pod.status.initContainerStatuses, ...pod.status.containerStatuses].map((s: any) => [s.name, s]));
        const envEnded = Date.parse(statuses.get('write-env').state.terminated.finishedAt);
        const waitStarted = Date.parse(statuses.get('wait-for-backend').state.terminated.startedAt);
        const waitEnded = Date.parse(statuses.get('wait-for-backend').state.terminated.finishedAt);
        const appState = statuses.get('app').state;
        const appStarted = Date.parse((appState.running ?? appState.terminated).startedAt);
        expect({ kind, ordered: envEnded <= waitStarted && waitEnded <= appStarted }).toEqual({ kind, ordered: true });
        if (kind === 'Job' || kind === 'CronJob') {
          expect({ kind, exitCode: appState.terminated?.exitCode }).toEqual({ kind, exitCode: 0 });
          expect(appLog).toContain('app: stopping');
        }
      }
    });
  });
});
