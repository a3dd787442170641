// `npm run build:workflows`: pre-bundles the workflow code to dist/workflow-bundle.js, so a
// production worker (WORKFLOW_BUNDLE_PATH) starts without running webpack.
import { mkdirSync, writeFileSync } from 'node:fs';
import { bundleWorkflows } from '../src/embedded/bundle.js';

const { code } = await bundleWorkflows();
mkdirSync('dist', { recursive: true });
writeFileSync('dist/workflow-bundle.js', code);
console.log(`dist/workflow-bundle.js: ${(code.length / 1024).toFixed(0)} KiB`);
