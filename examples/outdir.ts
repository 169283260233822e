import * as path from 'path';

/**
 * Where an example app writes its manifests: `examples/dist/<app>`, or
 * `$EXAMPLES_OUTDIR/<app>` when tests synthesize the examples elsewhere.
 */
export function exampleOutdir(app: string): string {
  return path.join(process.env.EXAMPLES_OUTDIR ?? path.join(__dirname, 'dist'), app);
}
