import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { WaitTarget } from './wait-target';
import { InitStep, InitStepOptions } from '../init-step';
import { literalEnv } from '../private/kubelet-literal';
import { wholeSeconds } from '../private/step-values';
import { shellCommand } from '../shell/scripts';

/**
 * The image for targets without HTTPS: busybox `sh`, `nc`, `wget`, `nslookup`,
 * `timeout`. The wait script is tested under this busybox build and Debian's.
 */
export const WAIT_FOR_SERVICE_IMAGE = 'busybox:1.36.1';

/**
 * The image when any target is HTTPS: busybox's own TLS cannot be relied on
 * (1.36.1 fails against servers using P-256 key exchange, busybox bug 15679),
 * so HTTP(S) checks run with curl. Alpine-based, so it also has busybox `sh`,
 * `nc`, `nslookup` and `timeout` for the other targets.
 */
export const WAIT_FOR_SERVICE_CURL_IMAGE = 'curlimages/curl:8.11.1';

/**
 * Properties of a `WaitForService` step.
 */
export interface WaitForServiceProps extends InitStepOptions {
  /** What to wait for; all targets are checked in parallel. */
  readonly targets: WaitTarget[];

  /**
   * Overall timeout. When it passes, the step exits 1 with a message naming
   * every target still not ready and its most telling error (a refusal seen
   * all along, not a last attempt that the deadline cut short).
   *
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;

  /**
   * Delay before the first retry; later delays grow by 1.5x up to `maxInterval`.
   *
   * @default Duration.millis(100)
   */
  readonly minInterval?: Duration;

  /**
   * Longest delay between two checks of one target.
   *
   * @default Duration.millis(500)
   */
  readonly maxInterval?: Duration;

  /**
   * Longest a single check may take.
   *
   * @default Duration.seconds(5)
   */
  readonly attemptTimeout?: Duration;

  /**
   * Image with busybox `sh`, `nc`, `nslookup`, `timeout` and fractional `sleep`,
   * and for HTTP(S) targets either `curl` (used when present) or busybox `wget`
   * (whose TLS does not work for HTTPS targets: give an image with curl).
   *
   * @default - `WAIT_FOR_SERVICE_CURL_IMAGE` ("curlimages/curl:8.11.1") when any target
   * is HTTPS, else `WAIT_FOR_SERVICE_IMAGE` ("busybox:1.36.1")
   */
  readonly image?: string;
}

/**
 * Blocks the pod until its dependencies are ready: TCP connect, HTTP(S)
 * status, or DNS resolution, all targets in parallel in one init container,
 * with fast retries and a bounded overall timeout.
 *
 * Progress is logged once per change of state; on timeout the last log line
 * names every target not ready and its error, which
 * `terminationMessagePolicy: FallbackToLogsOnError` puts in `kubectl describe pod`.
 * The step succeeds only when every target reported ready: a check that ends
 * without a result (e.g. OOM-killed) fails it, naming the target. A malformed
 * (hand-edited) configuration exits 2.
 */
export class WaitForService extends InitStep {
  /** The targets, in the order given. */
  public readonly targets: WaitTarget[];

  constructor(scope: Construct, id: string, props: WaitForServiceProps) {
    const timeout = props.timeout ?? Duration.minutes(5);
    const settings = {
      timeout: wholeSeconds(timeout),
      minInterval: (props.minInterval ?? Duration.millis(100)).toMilliseconds(),
      maxInterval: (props.maxInterval ?? Duration.millis(500)).toMilliseconds(),
      attemptTimeout: wholeSeconds(props.attemptTimeout ?? Duration.seconds(5)),
    };
    super(scope, id, {
      ...props,
      image: props.image ?? defaultImage(props.targets ?? []),
      command: shellCommand('lib.sh', 'wait-for-service.sh'),
      env: {
        WAIT_TARGETS: literalEnv((props.targets ?? []).map(t => t.spec).join('\n')),
        WAIT_TIMEOUT: literalEnv(String(settings.timeout)),
        WAIT_MIN_INTERVAL_MS: literalEnv(String(settings.minInterval)),
        WAIT_MAX_INTERVAL_MS: literalEnv(String(settings.maxInterval)),
        WAIT_ATTEMPT_TIMEOUT: literalEnv(String(settings.attemptTimeout)),
      },
      timeout,
      description: `waits for ${(props.targets ?? []).map(t => t.description).join(', ')}`,
    });
    const owner = `WaitForService ${this.node.path}`;
    if (!props.targets || props.targets.length === 0) {
      throw new Error(`${owner}: give at least one target`);
    }
    if (timeout.toMilliseconds() < 1000) throw new Error(`${owner}: timeout must be at least 1 second`);
    if (settings.minInterval < 10 || settings.maxInterval < settings.minInterval) {
      throw new Error(`${owner}: need 10ms <= minInterval (${settings.minInterval}ms) <= maxInterval (${settings.maxInterval}ms)`);
    }
    if ((props.attemptTimeout?.toMilliseconds() ?? 1000) < 1000) throw new Error(`${owner}: attemptTimeout must be at least 1 second`);
    this.targets = [...props.targets];
  }
}

/** busybox unless a target needs TLS, which busybox's wget cannot be trusted with. */
function defaultImage(targets: WaitTarget[]): string {
  return targets.some(t => t.spec.startsWith('https ')) ? WAIT_FOR_SERVICE_CURL_IMAGE : WAIT_FOR_SERVICE_IMAGE;
}
