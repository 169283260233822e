import * as kplus from 'cdk8s-plus-27';
import { brand } from '../private/identity';
import { MIGRATION_SOURCE_BRAND } from '../private/migration-brands';
import { SharedVolume } from '../shared-volume';

/**
 * Where a migration tool finds the migrations.
 */
export class MigrationSource {
  /**
   * Baked into the image (set `image` on the step to an image built from the
   * tool's), at `path` or the tool's default directory.
   */
  public static inImage(path?: string): MigrationSource {
    return new MigrationSource('image', path);
  }

  /**
   * The files of a ConfigMap, mounted read-only at the tool's migrations directory.
   */
  public static fromConfigMap(configMap: kplus.IConfigMap): MigrationSource {
    return new MigrationSource('configmap', undefined, configMap);
  }

  /**
   * A shared volume filled by an earlier step (e.g. `ConfigFetchInit` from Git),
   * mounted read-only at the tool's migrations directory; `subPath` picks a
   * directory of it.
   */
  public static fromVolume(volume: SharedVolume, subPath?: string): MigrationSource {
    return new MigrationSource('volume', undefined, undefined, volume, subPath);
  }

  private constructor(
    /** "image", "configmap" or "volume". */
    public readonly kind: string,
    /** Path in the image, for "image". */
    public readonly path?: string,
    /** The ConfigMap, for "configmap". */
    public readonly configMap?: kplus.IConfigMap,
    /** The shared volume, for "volume". */
    public readonly volume?: SharedVolume,
    /** Directory of the shared volume, for "volume". */
    public readonly subPath?: string,
  ) {
    brand(this, MIGRATION_SOURCE_BRAND);
  }
}
