import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { WaitTarget } from './wait-target';
import { InitStep, InitStepOptions } from '../init-step';
import { wholeSeconds } from '../private/step-values';
import { shellCommand } from '../shell/scripts';

/** The image the wait script is written and tested against (busybox `sh`, `nc`, `wget`, `nslookup`, `timeout`). */
export const WAIT_FOR_SERVICE_IMAGE = 'busybox:1.36.1';

/**
 * Properties of a `WaitForService` step.
 */
export interface WaitForServiceProps extends InitStepOptions {
  /** What to wait for; all targets are checked in parallel. */
  readonly targets: WaitTarget[];

  /**
   * Overall timeout. When it passes, the step exits 1 with a message naming
   * every target still not ready and the last error seen for it.
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
   * Image with busybox `sh`, `nc` (with `-w`, `-e`), `wget` (with `-S`, HTTPS for
   * https targets), `nslookup`, `timeout` and fractional `sleep`.
   *
   * @default "busybox:1.36.1"
   */
  readonly image?: string;
}

/**
 * Blocks the pod until its dependencies are ready: TCP connect, HTTP(S)
 * status, or DNS resolution, all targets in parallel in one init container,
 * with fast retries and a bounded overall timeout.
 *
 * Progress is logged once per change of state; on timeout the last log line
 * names every target not ready and its last error, which
 * `terminationMessagePolicy: FallbackToLogsOnError` puts in `kubectl describe pod`.
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
      image: props.image ?? WAIT_FOR_SERVICE_IMAGE,
      command: shellCommand('lib.sh', 'wait-for-service.sh'),
      env: {
        WAIT_TARGETS: kplus.EnvValue.fromValue((props.targets ?? []).map(t => t.spec).join('\n')),
        WAIT_TIMEOUT: kplus.EnvValue.fromValue(String(settings.timeout)),
        WAIT_MIN_INTERVAL_MS: kplus.EnvValue.fromValue(String(settings.minInterval)),
        WAIT_MAX_INTERVAL_MS: kplus.EnvValue.fromValue(String(settings.maxInterval)),
        WAIT_ATTEMPT_TIMEOUT: kplus.EnvValue.fromValue(String(settings.attemptTimeout)),
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
