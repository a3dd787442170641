#!/usr/bin/env node
// `npx durable-billing …`. Installed from the package (no src/ in it): the compiled CLI,
// dist/cli/main.js, with production dependencies only. Inside this repository: the TypeScript
// sources through tsx (a dev dependency), so a stale dist/ from an earlier build never runs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  // tsx's in-process ESM loader: no child process, so signals and the exit code are this process's.
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
