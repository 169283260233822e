import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as kplus from 'cdk8s-plus-27';
import { CertificateCheckInit, CertificateCheckInitProps, InitSequence, SharedVolume } from '../../src';
import { BusyboxBuild, forEachBusybox, runContainer, RunResult } from '../util/container';
import { newChart } from '../util/fixtures';
import { initContainersOf, synthValid } from '../util/manifest';

// Certificates made with openssl: a CA, another CA, and leaves signed by the first.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
function ca(name: string) {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`);
}
function leaf(name: string, days: number, dnsNames: string[], signer = 'ca') {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${dnsNames[0]}`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${dnsNames.map(n => `DNS:${n}`).join(',')}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', String(days), '-extfile', `${name}.ext`);
}
ca('ca');
ca('other-ca');
leaf('valid', 90, ['api.shop.svc', 'api']);
leaf('expired', -1, ['api.shop.svc']);
leaf('expiring', 3, ['api.shop.svc']);
leaf('wildcard', 90, ['*.shop.svc']);
leaf('foreign', 90, ['api.shop.svc'], 'other-ca');
fs.writeFileSync(path.join(dir, 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');

const CERT_DIR = '/var/run/cdk8s-init/cert';

function checkContainer(props: Partial<CertificateCheckInitProps> = {}, withCa = true): any {
  const chart = newChart();
  const secret = new kplus.Secret(chart, 'tls', {});
  const tls = new SharedVolume(chart, 'tls-volume', { volume: kplus.Volume.fromSecret(chart, 'tls-secret-volume', secret, { name: 'tls' }) });
  const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
  InitSequence.of(pod).add(new CertificateCheckInit(chart, 'check-cert', { certificate: tls, ca: withCa ? tls : undefined, ...props }));
  return initContainersOf(synthValid(chart))[0];
}

/** The mounted Secret: `tls.crt` (and `ca.crt`) copied from the made certificates, mode 0644 as a Secret volume's default. */
function secretVolume(cert?: string, caName?: string): string {
  const volume = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-secret-'));
  fs.chmodSync(volume, 0o755);
  for (const [file, from] of [['tls.crt', cert], ['ca.crt', caName]] as const) {
    if (from === undefined) continue;
    fs.copyFileSync(path.join(dir, `${from}.pem`), path.join(volume, file));
    fs.chmodSync(path.join(volume, file), 0o644);
  }
  return volume;
}

/** Runs the check in its container (alpine/openssl: busybox plus openssl) with `cert` and the CA `ca` in the mounted Secret. */
function check(busybox: BusyboxBuild, cert: string, options: { names?: string[]; minDays?: number; ca?: string } = {}): Promise<RunResult> {
  const container = checkContainer({ dnsNames: options.names, minValidDays: options.minDays });
  return runContainer(container, { busybox, volumes: { tls: secretVolume(cert, options.ca ?? 'ca') }, tools: ['openssl'] });
}
const notAfter = (cert: string) => execFileSync('openssl', ['x509', '-in', `${cert}.pem`, '-noout', '-enddate'], { cwd: dir, encoding: 'utf8' }).trim().replace('notAfter=', '');

describe('CertificateCheckInit', () => {
  test('manifest: openssl image, Secret mounted read-only once, checks in env', () => {
    const c = checkContainer({ dnsNames: ['api.shop.svc'], minValidDays: 14 });
    expect(CertificateCheckInit.DEFAULT_IMAGE).toBe('alpine/openssl:3.3.2');
    expect(c.image).toBe(CertificateCheckInit.DEFAULT_IMAGE);
    expect(c.volumeMounts).toEqual([{ name: 'tls', mountPath: '/var/run/cdk8s-init/cert', readOnly: true }]);
    expect(Object.fromEntries(c.env.map((e: any) => [e.name, e.value]))).toEqual({
      CERT_FILE: '/var/run/cdk8s-init/cert/tls.crt',
      CA_FILE: '/var/run/cdk8s-init/cert/ca.crt',
      MIN_DAYS: '14',
      EXPECT_NAMES: 'api.shop.svc',
    });
  });

  forEachBusybox(busybox => {
    test('a valid certificate passes every check', async () => {
      const r = await check(busybox, 'valid', { names: ['api.shop.svc', 'api'], minDays: 30 });
      expect(r.code).toBe(0);
      expect(r.lastLine).toMatch(/^cert-check: certificate \/var\/run\/cdk8s-init\/cert\/tls.crt \(CN ?= ?api.shop.svc\) is valid from .* until .*, covers api.shop.svc api, chains to \/var\/run\/cdk8s-init\/cert\/ca.crt$/);
    });

    test('an expired certificate fails, naming the date', async () => {
      const r = await check(busybox, 'expired');
      expect(r.code).toBe(1);
      expect(r.lastLine).toMatch(new RegExp(`^cert-check: certificate ${CERT_DIR}/tls.crt \\(CN ?= ?api.shop.svc\\) expired on ${notAfter('expired')}$`));
    });

    test('a certificate expiring within minValidDays fails, naming the date and the days', async () => {
      const r = await check(busybox, 'expiring', { minDays: 7 });
      expect(r.code).toBe(1);
      expect(r.lastLine).toContain(`expires on ${notAfter('expiring')}, within the required 7 days`);
      expect((await check(busybox, 'expiring', { minDays: 2 })).code).toBe(0);
    });

    test('a fully qualified or upper-case name matches as in TLS', async () => {
      const r = await check(busybox, 'valid', { names: ['API.shop.svc.', 'api'] });
      expect(r.code).toBe(0);
      expect(r.lastLine).toContain('covers api.shop.svc api,');
    });

    test('a wrong name fails, listing the missing names and the ones it has', async () => {
      const r = await check(busybox, 'valid', { names: ['api.shop.svc', 'www.example.com'] });
      expect(r.code).toBe(1);
      expect(r.lastLine).toMatch(/does not cover: www.example.com \(its names: DNS:api.shop.svc,DNS:api\)$/);
      expect((await check(busybox, 'wildcard', { names: ['orders.shop.svc'] })).code).toBe(0);
    });

    test('a certificate from another CA fails the chain check', async () => {
      const r = await check(busybox, 'foreign');
      expect(r.code).toBe(1);
      expect(r.lastLine).toMatch(/does not chain to the CA in \/var\/run\/cdk8s-init\/cert\/ca.crt: unable to get local issuer certificate$/);
    });

    test('an unparsable or missing certificate fails clearly', async () => {
      const garbage = await runContainer(checkContainer({}, false), { busybox, volumes: { tls: secretVolume('garbage') }, tools: ['openssl'] });
      expect(garbage.code).toBe(1);
      expect(garbage.lastLine).toMatch(/^cert-check: cannot parse certificate \/var\/run\/cdk8s-init\/cert\/tls.crt: /);
      const missing = await runContainer(checkContainer({}, false), { busybox, volumes: { tls: secretVolume() }, tools: ['openssl'] });
      expect(missing.code).toBe(1);
      expect(missing.lastLine).toBe(`cert-check: certificate ${CERT_DIR}/tls.crt not found or not readable`);
    });
  });

  test.each([
    [{ dnsNames: ['api;rm -rf /'] }, 'DNS name "api;rm -rf /" is not valid'],
    [{ dnsNames: ['$(id)'] }, 'DNS name "$(id)" is not valid'],
    [{ minValidDays: -1 }, 'minValidDays -1 must be a whole number of days >= 0'],
    [{ certificateFile: '../etc/passwd' }, 'certificateFile "../etc/passwd" must be a relative path'],
  ])('bad input %j', (props, message) => {
    expect(() => checkContainer(props as any)).toThrow(`CertificateCheckInit test/check-cert: ${message}`);
  });
});
