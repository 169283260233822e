/**
 * A Deployment that starts only when its database accepts connections and its
 * upstream API answers /healthz with 2xx, checked in parallel by one init container.
 */
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AppContainerHardening, InitSequence, WaitForService, WaitTarget } from '../../src';
import { exampleOutdir } from '../outdir';

export class WaitForDepsChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'shop' });
    const db = new kplus.Service(this, 'postgres', { ports: [{ port: 5432 }] });
    const api = new kplus.Service(this, 'inventory-api', { ports: [{ port: 8080 }] });

    const web = new kplus.Deployment(this, 'web', {
      containers: [{ name: 'web', image: 'ghcr.io/example/web:2.4.1', ports: [{ number: 8080 }] }],
    });
    AppContainerHardening.restrict(web);

    InitSequence.of(web).add(new WaitForService(this, 'wait-for-deps', {
      targets: [
        WaitTarget.tcpService(db),
        WaitTarget.httpService(api, { path: '/healthz' }),
      ],
      timeout: Duration.minutes(3),
    }));
  }
}

export const app = new App({ outdir: exampleOutdir('wait-for-deps') });
new WaitForDepsChart(app, 'wait-for-deps');
app.synth();
