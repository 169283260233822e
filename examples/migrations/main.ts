/**
 * Database migrations before the app starts, two ways:
 * - `orders`: every replica runs Flyway in its init containers (Flyway's lock
 *   serializes them), after waiting for PostgreSQL and the payments API;
 * - `billing`: the migration runs once as a Job, and the app waits for it
 *   (RBAC for that wait is wired automatically).
 */
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  AppContainerHardening, DatabaseConnection, InitSequence, MigrationInit, MigrationJob, MigrationSource, MigrationTool, WaitForService,
  WaitTarget,
} from '../../src';
import { exampleOutdir } from '../outdir';

export class MigrationsChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'shop' });
    const postgres = new kplus.Service(this, 'postgres', { ports: [{ port: 5432 }] });
    const payments = new kplus.Service(this, 'payments', { ports: [{ port: 8080 }] });
    const credentials = kplus.Secret.fromSecretName(this, 'db-credentials', 'shop-db');
    const database = new DatabaseConnection({ service: postgres, database: 'shop', credentials, sslMode: 'require' });

    const orders = new kplus.Deployment(this, 'orders', {
      replicas: 3,
      containers: [{ name: 'orders', image: 'ghcr.io/example/orders:3.1.0', ports: [{ number: 8080 }] }],
    });
    AppContainerHardening.restrict(orders);
    InitSequence.of(orders).add(
      new WaitForService(this, 'wait-for-payments', {
        targets: [WaitTarget.httpService(payments, { path: '/healthz' })],
        timeout: Duration.minutes(2),
      }),
      new MigrationInit(this, 'migrate-orders', {
        tool: MigrationTool.flyway(),
        database,
        migrations: MigrationSource.fromConfigMap(new kplus.ConfigMap(this, 'orders-sql', {
          data: {
            'V1__create_orders.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint NOT NULL);',
            'V2__add_status.sql': "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';",
          },
        })),
        expectedDuration: Duration.minutes(2),
      }),
    );

    const billingSchema = new MigrationJob(this, 'billing-schema', {
      tool: MigrationTool.golangMigrate(),
      database,
      migrations: MigrationSource.inImage('/migrations'),
      image: 'ghcr.io/example/billing-migrations:2.0.4',
    });
    const billing = new kplus.Deployment(this, 'billing', {
      replicas: 2,
      containers: [{ name: 'billing', image: 'ghcr.io/example/billing:2.0.4' }],
    });
    AppContainerHardening.restrict(billing);
    InitSequence.of(billing).add(billingSchema.waitStep(this, 'wait-for-billing-schema', { timeout: Duration.minutes(15) }));
  }
}

export const app = new App({ outdir: exampleOutdir('migrations') });
new MigrationsChart(app, 'migrations');
app.synth();
