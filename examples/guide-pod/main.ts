/**
 * The Pod from the Kubernetes init-containers guide, written with cdk8s-init:
 * the shared emptyDir is declared and mounted by the library.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AppContainerHardening, InitSequence, InitStep, SharedVolume } from '../../src';
import { exampleOutdir } from '../outdir';

export class GuidePodChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const sharedData = new SharedVolume(this, 'shared-data');

    const pod = new kplus.Pod(this, 'pod', { metadata: { name: 'example-pod' } });
    const app = pod.addContainer({
      name: 'myapp-container',
      image: 'myapp:1.0',
      ports: [{ number: 80 }],
    });
    sharedData.mount(app, '/app/data');
    // Restricted, as the init container is. NET_BIND_SERVICE lets the non-root app listen on port 80
    // only if its binary carries that file capability: Kubernetes sets no ambient capabilities.
    AppContainerHardening.restrict(pod, { netBindService: true });

    InitSequence.of(pod).add(new InitStep(this, 'init-myservice', {
      image: 'busybox:1.36.1',
      command: ['sh', '-c', 'echo Initializing... && sleep 2'],
      writes: [{ volume: sharedData, path: '/data' }],
    }));
  }
}

export const app = new App({ outdir: exampleOutdir('guide-pod') });
new GuidePodChart(app, 'guide-pod');
app.synth();
