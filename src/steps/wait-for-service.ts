import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { WaitTarget } from './wait-target';
import { InitStep, InitStepOptions } from '../init-step';
import { BUSYBOX_IMAGE, CURL_IMAGE } from '../private/image';
import { literalEnv } from '../private/kubelet-literal';
import { durationMillis, stepOwner, timeoutSeconds } from '../private/step-values';
import { shellCommand } from '../shell/scripts';

/**
 * Properties of a `WaitForService` step.
 */
export interface WaitForServiceProps extends InitStepOptions {
  /** What to wait for; all targets are checked in parallel. */
  readonly targets: WaitTarget[];

  /**
   * Overall timeout, at least 1 second. When it passes, the step exits 1 with
   * a message naming every target still not ready and its most telling error
   * (a refusal seen all along, not a last attempt that the deadline cut short).
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
   * Longest a single check may take; at least 1 second.
   *
   * @default Duration.seconds(5)
   */
  readonly attemptTimeout?: Duration;

  /**
   * Image with busybox `sh`, `nc`, `nslookup`, `timeout` and fractional `sleep`,
   * and for HTTP(S) targets either `curl` (used when present) or busybox `wget`
   * (whose TLS does not work for HTTPS targets: give an image with curl).
   *
   * @default - `WaitForService.CURL_IMAGE` when any target is HTTPS, else
   * `WaitForService.DEFAULT_IMAGE`
   */
  readonly image?: string;

  /**
   * Whether this step may share one container with a WaitForService right
   * before or after it in the same workload (same image, settings, resources
   * and security), which then checks all their targets in parallel. A wait that
   * only repeats targets an earlier step waited for is left out of a step's
   * prerequisites either way. Each init container adds to the pod's start time.
   *
   * @default true
   */
  readonly mergeAdjacent?: boolean;
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
  /**
   * The image for targets without HTTPS: busybox `sh`, `nc`, `wget`, `nslookup`,
   * `timeout`. The wait script is tested under this busybox build and Debian's.
   */
  public static readonly DEFAULT_IMAGE: string = BUSYBOX_IMAGE;

  /**
   * The image when any target is HTTPS: busybox's own TLS cannot be relied on
   * (1.36.1 fails against servers using P-256 key exchange, busybox bug 15679),
   * so HTTP(S) checks run with curl. Alpine-based, so it also has busybox `sh`,
   * `nc`, `nslookup` and `timeout` for the other targets.
   */
  public static readonly CURL_IMAGE: string = CURL_IMAGE;

  /** The targets, in the order given. */
  public readonly targets: WaitTarget[];

  /** Whether this step may share a container with an adjacent WaitForService. */
  public readonly mergeAdjacent: boolean;

  constructor(scope: Construct, id: string, props: WaitForServiceProps) {
    const owner = stepOwner('WaitForService', scope, id);
    if (!props.targets || props.targets.length === 0) {
      throw new Error(`${owner}: give at least one target`);
    }
    const timeout = props.timeout ?? Duration.minutes(5);
    const settings = {
      timeout: timeoutSeconds(owner, 'timeout', timeout),
      minInterval: Math.ceil(durationMillis(owner, 'minInterval', props.minInterval ?? Duration.millis(100))),
      maxInterval: Math.ceil(durationMillis(owner, 'maxInterval', props.maxInterval ?? Duration.millis(500))),
      attemptTimeout: timeoutSeconds(owner, 'attemptTimeout', props.attemptTimeout ?? Duration.seconds(5)),
    };
    if (settings.minInterval < 10 || settings.maxInterval < settings.minInterval) {
      throw new Error(`${owner}: need 10ms <= minInterval (${settings.minInterval}ms) <= maxInterval (${settings.maxInterval}ms)`);
    }
    super(scope, id, {
      ...props,
      image: props.image ?? defaultImage(props.targets),
      command: shellCommand('lib.sh', 'wait-for-service.sh'),
      env: {
        WAIT_TARGETS: literalEnv(props.targets.map(t => t.spec).join('\n')),
        WAIT_TIMEOUT: literalEnv(String(settings.timeout)),
        WAIT_MIN_INTERVAL_MS: literalEnv(String(settings.minInterval)),
        WAIT_MAX_INTERVAL_MS: literalEnv(String(settings.maxInterval)),
        WAIT_ATTEMPT_TIMEOUT: literalEnv(String(settings.attemptTimeout)),
      },
      timeout,
      description: `waits for ${props.targets.map(t => t.description).join(', ')}`,
    });
    this.targets = [...props.targets];
    this.mergeAdjacent = props.mergeAdjacent ?? true;
  }
}

/** busybox unless a target needs TLS, which busybox's wget cannot be trusted with. */
function defaultImage(targets: WaitTarget[]): string {
  return targets.some(t => t.spec.startsWith('https ')) ? WaitForService.CURL_IMAGE : WaitForService.DEFAULT_IMAGE;
}
