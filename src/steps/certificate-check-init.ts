import { Construct } from 'constructs';
import { InitStep, InitStepOptions } from '../init-step';
import { OPENSSL_IMAGE } from '../private/image';
import { literalEnv } from '../private/kubelet-literal';
import { assertRelativePath } from '../private/mount-paths';
import { stepOwner } from '../private/step-values';
import { SharedVolume, SharedVolumeMount } from '../shared-volume';
import { shellCommand } from '../shell/scripts';

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
   * DNS names the certificate must cover (subjectAltName; wildcards as TLS
   * matches them). Case and a trailing dot do not matter, as in TLS.
   *
   * @default - names are not checked
   */
  readonly dnsNames?: string[];

  /**
   * Image with openssl (x509 -checkend/-checkhost, verify) and a POSIX sh.
   *
   * @default CertificateCheckInit.DEFAULT_IMAGE
   */
  readonly image?: string;
}

/**
 * Checks an X.509 certificate before the app starts: it parses, is not expired,
 * does not expire within `minValidDays`, covers the expected DNS names and
 * chains to the given CA. A failure names the check, the dates or the names.
 */
export class CertificateCheckInit extends InitStep {
  /** The default image: openssl (x509 -checkend/-checkhost, verify) and busybox `sh`. */
  public static readonly DEFAULT_IMAGE: string = OPENSSL_IMAGE;

  constructor(scope: Construct, id: string, props: CertificateCheckInitProps) {
    const owner = stepOwner('CertificateCheckInit', scope, id);
    const certFile = props.certificateFile ?? 'tls.crt';
    const caFile = props.caFile ?? 'ca.crt';
    const minDays = props.minValidDays ?? 7;
    assertRelativePath(owner, 'certificateFile', certFile);
    assertRelativePath(owner, 'caFile', caFile);
    if (!Number.isInteger(minDays) || minDays < 0) throw new Error(`${owner}: minValidDays ${minDays} must be a whole number of days >= 0`);
    // openssl -checkhost compares without case but does not drop the dot of a fully qualified name.
    const names = (props.dnsNames ?? []).map(name => {
      const n = typeof name === 'string' ? name.toLowerCase().replace(/\.$/, '') : '';
      if (!DNS_NAME.test(n) || n.length > 253) throw new Error(`${owner}: DNS name ${JSON.stringify(name)} is not valid`);
      return n;
    });
    const sameVolume = props.ca === props.certificate;
    const reads: SharedVolumeMount[] = [{ volume: props.certificate, path: CERT_MOUNT }];
    if (props.ca && !sameVolume) reads.push({ volume: props.ca, path: CA_MOUNT });
    const caPath = props.ca ? `${sameVolume ? CERT_MOUNT : CA_MOUNT}/${caFile}` : undefined;
    super(scope, id, {
      ...props,
      image: props.image ?? CertificateCheckInit.DEFAULT_IMAGE,
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
