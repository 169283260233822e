import { Chart, Cron, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/** A fresh chart in a fresh app. */
export function newChart(): Chart {
  return new Chart(Testing.app(), 'test');
}

/** One workload of every pod-bearing kind cdk8s-plus offers, each with a main container. */
export function everyWorkload(scope: Construct): Record<string, kplus.AbstractPod> {
  const container = { name: 'app', image: 'app:1.0' };
  return {
    Pod: new kplus.Pod(scope, 'pod', { containers: [container] }),
    Deployment: new kplus.Deployment(scope, 'deployment', { containers: [container] }),
    StatefulSet: new kplus.StatefulSet(scope, 'statefulset', {
      containers: [container],
      service: new kplus.Service(scope, 'headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
    }),
    Job: new kplus.Job(scope, 'job', { containers: [container] }),
    CronJob: new kplus.CronJob(scope, 'cronjob', {
      containers: [container],
      schedule: Cron.hourly(),
    }),
    DaemonSet: new kplus.DaemonSet(scope, 'daemonset', { containers: [container] }),
  };
}

/** The securityContext every step gets by default (StepSecurity.restricted()), as synthesized. */
export const RESTRICTED_STEP_CONTEXT = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsGroup: 65532,
  runAsNonRoot: true,
  runAsUser: 65532,
  seccompProfile: { type: 'RuntimeDefault' },
};
