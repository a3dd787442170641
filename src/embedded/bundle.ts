// Bundles workflow code once (webpack via the SDK) so workers start without running the bundler.
// ESM sources import `./x.js` while the files are `x.ts`: the bundler maps the extension.
import {
  bundleWorkflowCode,
  DefaultLogger,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { fileURLToPath } from 'node:url';

/**
 * The production workflow entry: every workflow the `billing` worker serves. Beside this module:
 * `index.ts` in the repository (tsx), `index.js` when compiled (dist/, the installed package).
 */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/** Bundles the workflows at `workflowsPath` (default: the production entry). */
export async function bundleWorkflows(
  workflowsPath: string = WORKFLOWS_PATH,
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('WARN'),
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } },
    }),
  });
}
