/** Certificates from the tier's CA (the one the stand-in images trust), made with the openssl CLI. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A key and certificate (PEM) signed by the tier's CA, and that CA. */
export interface IssuedCert {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

/** Issues a certificate for `dnsNames`, valid for `days` from now. */
export function issueCert(commonName: string, dnsNames: string[], days: number): IssuedCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-cert-'));
  try {
    const file = (name: string) => path.join(dir, name);
    fs.writeFileSync(file('ext'), `subjectAltName=${dnsNames.map(n => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${commonName}`, '-keyout', file('key.pem'), '-out', file('csr.pem')], { stdio: 'pipe' });
    execFileSync('openssl', ['x509', '-req', '-in', file('csr.pem'), '-CA', process.env.E2E_CA_CERT!, '-CAkey', process.env.E2E_CA_KEY!,
      '-CAcreateserial', '-CAserial', file('serial'), '-days', String(days), '-extfile', file('ext'), '-out', file('cert.pem')], { stdio: 'pipe' });
    return {
      key: fs.readFileSync(file('key.pem'), 'utf8'),
      cert: fs.readFileSync(file('cert.pem'), 'utf8'),
      ca: fs.readFileSync(process.env.E2E_CA_CERT!, 'utf8'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
