/**
 * Every TypeScript sample in README.md must compile against the library.
 * Samples without imports get a prelude: the library, cdk8s, cdk8s-plus and
 * constructs imported, and the objects samples refer to (chart, deployment,
 * secrets, ...) declared with their types.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { DESIGN_LINE, lineDir } from '../projenrc/lines';
import { PLUS_LINE } from './util/line';

const ROOT = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const samples = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map(m => m[1]);

const PRELUDE = `
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import {
  AppContainerHardening, CertificateCheckInit, ConfigFetchInit, ConfigSource, DatabaseConnection, DatabaseProxy, EnvFileInit, InitContainerPolicy, InitPlan,
  InitSequence, InitStep, KubernetesTarget, MigrationInit, MigrationJob, MigrationSource, MigrationTool, SharedVolume, VolumePermissionsInit,
  WaitForService, WaitTarget,
} from 'cdk8s-init-plus-33';
declare const app: App;
declare const chart: Chart;
declare const deployment: kplus.Deployment;
declare const web: kplus.Deployment;
declare const orders: kplus.Deployment;
declare const ordersWorker: kplus.Deployment;
declare const billing: kplus.Deployment;
declare const search: kplus.StatefulSet;
declare const main: kplus.Container;
declare const postgresService: kplus.Service;
declare const apiService: kplus.Service;
declare const dbSecret: kplus.ISecret;
declare const tokenSecret: kplus.ISecret;
declare const db: kplus.ISecret;
declare const apiKey: kplus.ISecret;
declare const sqlConfigMap: kplus.IConfigMap;
declare const site: SharedVolume;
declare const templates: SharedVolume;
declare const tls: SharedVolume;
declare const data: SharedVolume;
declare const settings: SharedVolume;
declare const tool: MigrationTool;
declare const migrations: MigrationSource;
declare const database: DatabaseConnection;
declare const config: SharedVolume;
void [App, Chart, Duration, Size, kplus, Construct, CertificateCheckInit, ConfigFetchInit, ConfigSource, DatabaseConnection, DatabaseProxy, EnvFileInit,
  InitContainerPolicy, InitPlan, InitSequence, InitStep, KubernetesTarget, MigrationInit, MigrationJob, MigrationSource, MigrationTool, SharedVolume,
  VolumePermissionsInit, WaitForService, WaitTarget];
`;

test('README has TypeScript samples', () => {
  expect(samples.length).toBeGreaterThanOrEqual(8);
});

test('every TypeScript sample in README compiles', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  const files = samples.map((code, i) => {
    const file = path.join(dir, `sample${i}.ts`);
    const complete = /^import /m.test(code);
    // A sample may declare what the prelude declares (its own `database`): a block scope lets it shadow.
    const body = complete || /^export /m.test(code) ? code : `{\n${code}\n}`;
    fs.writeFileSync(file, `${complete ? '' : PRELUDE}\n${body}\nexport {};\n`);
    return file;
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    experimentalDecorators: true,
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    baseUrl: ROOT,
    // The samples use line 33, as a new app does; each line's run compiles them against that line.
    paths: {
      'cdk8s-init-plus-33': [PLUS_LINE === DESIGN_LINE ? 'src/index.ts' : `${lineDir(PLUS_LINE)}/lib/index.d.ts`],
      'cdk8s-plus-33': [`node_modules/cdk8s-plus-${PLUS_LINE}`],
      '*': ['node_modules/*'],
    },
    ignoreDeprecations: '6.0',
  });
  const errors = ts.getPreEmitDiagnostics(program).map(d => {
    const where = d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  expect(errors).toEqual([]);
});
