// One shared Temporal dev server per test run (the provisioned binary, SQLite in WAL mode, the
// project's search attributes registered) and one workflow bundle, handed to every test file
// through vitest's provide/inject. Every Stripe call an activity sends is recorded (workers
// inherit STRIPE_CALL_LOG) and checked against stripe-mock when the run ends: a call outside
// Stripe's spec fails the run (test/helpers/stripe-mock.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { devServerExecutable } from '../src/embedded/servers.js';
import { billingSearchAttributes } from '../src/shared/search-attributes.js';
import { createLocalTemporal } from '../src/embedded/dev-server.js';
import { STRIPE_CALL_LOG_ENV } from '../src/activities/stripe-call-log.js';
import { checkRecordedCalls, stripeMockPath } from './helpers/stripe-mock.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'durable-billing-test-'));
  // Fail at once, naming the command, rather than after minutes of tests.
  stripeMockPath();
  const callLog = (process.env[STRIPE_CALL_LOG_ENV] ??= join(dir, 'stripe-calls'));
  const [env, bundle] = await Promise.all([
    createLocalTemporal({
      server: {
        executable: devServerExecutable(),
        dbFilename: join(dir, 'temporal.db'),
        searchAttributes: [...billingSearchAttributes],
        extraArgs: ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'],
      },
    }),
    bundleWorkflows(fileURLToPath(new URL('./workflows/index.ts', import.meta.url))),
  ]);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  project.provide('temporalAddress', env.address);
  project.provide('temporalNamespace', env.namespace ?? 'default');
  project.provide('workflowBundlePath', workflowBundlePath);
  return async () => {
    await env.teardown();
    // A teardown's exception does not fail a vitest run; its exit code does.
    const contract = await checkRecordedCalls(callLog);
    if (contract.report) process.stderr.write(`\n${contract.report}\n`);
    if (contract.failed) process.exitCode = 1;
    rmSync(dir, { recursive: true, force: true });
  };
}
