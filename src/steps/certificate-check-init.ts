import { Construct } from 'constructs';
import { InitStep, InitStepOptions } from '../init-step';
import { assertRelativePath } from '../mount-paths';
import { literalEnv } from '../private/kubelet-literal';
import { stepOwner } from '../private/step-values';
import { SharedVolume, SharedVolumeMount } from '../shared-volume';
import { shellCommand } from '../shell/scripts';

/** Image with openssl and a POSIX sh. */
export const OPENSSL_IMAGE = 'alpine/openssl:3.3.2';

const CERT_MOUNT = '/var/run/cdk8s-init/cert';
const CA_MOUNT = '/var/run/cdk8s-init/ca';
const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/**
 * Properties of a `CertificateCheckInit` step.
 */
export interface CertificateCheckInitProps extends InitStepOptions {
  /**
   * Volume holding the certificate, typically a SharedVolume over a TLS Secret
   * (`kplus.Volume.fromSecret`), or one an earlier step wrote.
   */
  readonly certificate: SharedVolume;

  /**
   * Certificate file in that volume (PEM; intermediates may follow the leaf).
   *
   * @default "tls.crt"
   */
  readonly certificateFile?: string;

  /**
   * Volume holding the CA bundle the certificate must chain to.
   *
   * @default - the chain is not checked
   */
  readonly ca?: SharedVolume;

  /**
   * CA bundle file in `ca`.
   *
   * @default "ca.crt"
   */
  readonly caFile?: string;

  /**
   * Days the certificate must still be valid: a certificate expiring sooner fails the step.
   *
   * @default 7
   */
  readonly minValidDays?: number;

  /**
   * DNS names the certificate must cover (subjectAltName; wildcards as TLS matches them).
   *
   * @default - names are not checked
   */
  readonly dnsNames?: string[];

  /**
   * Image with openssl (x509 -checkend/-checkhost, verify) and a POSIX sh.
   *
   * @default "alpine/openssl:3.3.2"
   */
  readonly image?: string;
}

/**
 * Checks an X.509 certificate before the app starts: it parses, is not expired,
 * does not expire within `minValidDays`, covers the expected DNS names and
 * chains to the given CA. A failure names the check, the dates or the names.
 */
export class CertificateCheckInit extends InitStep {
  constructor(scope: Construct, id: string, props: CertificateCheckInitProps) {
    const owner = stepOwner('CertificateCheckInit', scope, id);
    const certFile = props.certificateFile ?? 'tls.crt';
    const caFile = props.caFile ?? 'ca.crt';
    const minDays = props.minValidDays ?? 7;
    const names = props.dnsNames ?? [];
    assertRelativePath(owner, 'certificateFile', certFile);
    assertRelativePath(owner, 'caFile', caFile);
    if (!Number.isInteger(minDays) || minDays < 0) throw new Error(`${owner}: minValidDays ${minDays} must be a whole number of days >= 0`);
    for (const name of names) {
      if (typeof name !== 'string' || !DNS_NAME.test(name)) throw new Error(`${owner}: DNS name ${JSON.stringify(name)} is not valid`);
    }
    const sameVolume = props.ca === props.certificate;
    const reads: SharedVolumeMount[] = [{ volume: props.certificate, path: CERT_MOUNT }];
    if (props.ca && !sameVolume) reads.push({ volume: props.ca, path: CA_MOUNT });
    const caPath = props.ca ? `${sameVolume ? CERT_MOUNT : CA_MOUNT}/${caFile}` : undefined;
    super(scope, id, {
      ...props,
      image: props.image ?? OPENSSL_IMAGE,
      command: shellCommand('lib.sh', 'cert-check.sh'),
      env: {
        CERT_FILE: literalEnv(`${CERT_MOUNT}/${certFile}`),
        ...caPath ? { CA_FILE: literalEnv(caPath) } : {},
        MIN_DAYS: literalEnv(String(minDays)),
        ...names.length ? { EXPECT_NAMES: literalEnv(names.join(' ')) } : {},
      },
      reads,
      description: `checks certificate ${props.certificate.name}/${certFile}` +
        `${names.length ? ` for ${names.join(', ')}` : ''}, valid >= ${minDays} days${caPath ? ', chain to CA' : ''}`,
    });
  }
}
