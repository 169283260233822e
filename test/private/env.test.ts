import * as kplus from 'cdk8s-plus-27';
import { assertSafeEnv, assertScriptVariables, assertSecretKey } from '../../src/private/env';
import { newChart } from '../util/fixtures';

describe('assertSecretKey', () => {
  test.each(['password', 'tls.crt', '.dockerconfigjson', 'AWS_ACCESS_KEY_ID', 'a-b_c.d', 'k'.repeat(253)])('accepts %j', key => {
    expect(() => assertSecretKey('S', 'key', key)).not.toThrow();
  });

  test.each(['', '.', '..', '..data', '$(id)', 'a b', 'a/b', 'k'.repeat(254)])('rejects %j as the API server does', key => {
    expect(() => assertSecretKey('S', 'authHeader.key', key)).toThrow(`S: authHeader.key ${JSON.stringify(key)} is not a valid Secret key`);
  });

  test('assertSafeEnv checks the keys of secretKeyRef and configMapKeyRef', () => {
    const chart = newChart();
    const secret = kplus.Secret.fromSecretName(chart, 's', 'app');
    const configMap = kplus.ConfigMap.fromConfigMapName(chart, 'c', 'app');
    expect(() => assertSafeEnv('S', { T: kplus.EnvValue.fromSecretValue({ secret, key: '' }) }))
      .toThrow('S: environment variable T: key "" is not a valid Secret key');
    expect(() => assertSafeEnv('S', { C: kplus.EnvValue.fromConfigMap(configMap, '$(x)') }))
      .toThrow('S: environment variable C: ConfigMap key "$(x)" is not a valid Secret key');
    expect(() => assertSafeEnv('S', { T: kplus.EnvValue.fromSecretValue({ secret, key: 'token' }) })).not.toThrow();
  });
});

describe('assertScriptVariables', () => {
  test('upper case, not the shell\'s, the library\'s or the script\'s', () => {
    expect(() => assertScriptVariables('S', 'variable name', ['DB_HOST', 'HOSTNAME', 'LANG', '_X'], ['ENVFILE_'])).not.toThrow();
    expect(() => assertScriptVariables('S', 'variable name', ['lower'], [])).toThrow('S: variable name "lower" must be upper case letters, digits and "_"');
    for (const name of ['RANDOM', 'IFS', 'PATH', 'RUN_ID', 'ENVFILE_MODE', 'FETCH_DEST']) {
      expect(() => assertScriptVariables('S', 'variable name', [name], ['ENVFILE_', 'FETCH_DEST'])).toThrow(`S: variable name ${name} is reserved; rename it`);
    }
    expect(() => assertScriptVariables('S', 'variable name', ['FETCH_URL'], ['ENVFILE_', 'FETCH_DEST'])).not.toThrow();
  });
});
