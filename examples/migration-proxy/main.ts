/**
 * Database migrations through the Cloud SQL Auth Proxy, for pods that reach
 * Cloud SQL only through it, two ways:
 * - `orders`: every replica runs Flyway in its init containers through a
 *   cloud-sql-proxy native sidecar, which then keeps running beside the app:
 *   the app connects to 127.0.0.1:5432 as the migration did;
 * - `billing`: the migration runs once as a Job, through the proxy as the Job
 *   pod's first init container (the Job completes when the migration exits, and
 *   the kubelet then stops the proxy); the app waits for the Job and runs a
 *   proxy sidecar of its own.
 * Both authenticate with Workload Identity: each pod runs as a Kubernetes
 * service account mapped to a Google service account, so no key is mounted.
 * Native sidecars need Kubernetes 1.29 or later: the app declares 1.30.
 */
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  AppContainerHardening, DatabaseConnection, DatabaseProxy, InitSequence, KubernetesTarget, MigrationInit, MigrationJob,
  MigrationSource, MigrationTool,
} from '../../src';
import { exampleOutdir } from '../outdir';

/** A Kubernetes service account named `name` that GKE Workload Identity maps to `googleServiceAccount`. */
function workloadIdentity(scope: Construct, name: string, googleServiceAccount: string): kplus.ServiceAccount {
  return new kplus.ServiceAccount(scope, `${name}-service-account`, {
    metadata: { name, annotations: { 'iam.gke.io/gcp-service-account': googleServiceAccount } },
  });
}

export class MigrationProxyChart extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id, { namespace: 'shop' });

    // The tool connects to the proxy's listener, in plain PostgreSQL: the proxy encrypts to the instance.
    const ordersProxy = DatabaseProxy.cloudSqlProxy({ instanceConnectionName: 'shop-prod:europe-west1:orders-db', privateIp: true });
    const ordersDatabase = new DatabaseConnection({
      host: '127.0.0.1',
      port: ordersProxy.port,
      database: 'orders',
      credentials: kplus.Secret.fromSecretName(this, 'orders-db-credentials', 'orders-db'),
      sslMode: 'disable',
    });
    const orders = new kplus.Deployment(this, 'orders', {
      replicas: 3,
      serviceAccount: workloadIdentity(this, 'orders', 'orders@shop-prod.iam.gserviceaccount.com'),
      containers: [{
        name: 'orders',
        image: 'ghcr.io/example/orders:3.1.0',
        ports: [{ number: 8080 }],
        envVariables: {
          DB_HOST: kplus.EnvValue.fromValue(ordersDatabase.host),
          DB_PORT: kplus.EnvValue.fromValue(String(ordersDatabase.port)),
        },
      }],
    });
    AppContainerHardening.restrict(orders);
    InitSequence.of(orders).add(new MigrationInit(this, 'migrate-orders', {
      tool: MigrationTool.flyway(),
      database: ordersDatabase,
      migrations: MigrationSource.fromConfigMap(new kplus.ConfigMap(this, 'orders-sql', {
        data: {
          'V1__create_orders.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint NOT NULL);',
          'V2__add_status.sql': "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';",
        },
      })),
      proxy: ordersProxy,
      expectedDuration: Duration.minutes(2),
    }));

    const billingProxy = DatabaseProxy.cloudSqlProxy({ instanceConnectionName: 'shop-prod:europe-west1:billing-db', privateIp: true });
    const billingDatabase = new DatabaseConnection({
      host: '127.0.0.1',
      port: billingProxy.port,
      database: 'billing',
      credentials: kplus.Secret.fromSecretName(this, 'billing-db-credentials', 'billing-db'),
      sslMode: 'disable',
    });
    const billingSchema = new MigrationJob(this, 'billing-schema', {
      tool: MigrationTool.golangMigrate(),
      database: billingDatabase,
      migrations: MigrationSource.inImage('/migrations'),
      image: 'ghcr.io/example/billing-migrations:2.0.4',
      proxy: billingProxy,
      serviceAccount: workloadIdentity(this, 'billing-migrator', 'billing-migrator@shop-prod.iam.gserviceaccount.com'),
    });
    const billing = new kplus.Deployment(this, 'billing', {
      replicas: 2,
      serviceAccount: workloadIdentity(this, 'billing', 'billing@shop-prod.iam.gserviceaccount.com'),
      containers: [{ name: 'billing', image: 'ghcr.io/example/billing:2.0.4' }],
    });
    AppContainerHardening.restrict(billing);
    InitSequence.of(billing).add(
      billingSchema.waitStep(this, 'wait-for-billing-schema', { timeout: Duration.minutes(15) }),
      billingProxy.sidecar(this, 'billing-sql-proxy'),
    );
  }
}

export const app = new App({ outdir: exampleOutdir('migration-proxy') });
// Before the charts: a MigrationJob renders its Job to name it, and native sidecars need 1.29 or later.
new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
new MigrationProxyChart(app, 'migration-proxy');
app.synth();
