#!/usr/bin/env node
// `npx durable-billing …`: runs the compiled CLI (dist/cli/main.js, from `tsc -p tsconfig.build.json`
// as the Dockerfile builds it) when present, else the TypeScript entry through tsx (a dev dependency).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  // tsx's in-process ESM loader: no child process, so signals and the exit code are this process's.
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
