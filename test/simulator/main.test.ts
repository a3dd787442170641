// `npm run sim`: the standalone entry starts on STRIPE_SIM_PORT, serves the API and the /_sim/
// controls, takes its settings from STRIPE_SIM_* (refusing bad ones by name), and exits cleanly
// on SIGTERM.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { stripeClient } from './sim-fixture.js';

const entry = fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url));

type SimProcess = ChildProcessByStdio<null, Readable, Readable>;

function spawnSim(env: Record<string, string>): SimProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, STRIPE_SIM_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `use` with the URL the simulator prints, then stops it and expects a clean exit. */
async function withSim(
  env: Record<string, string>,
  use: (url: string) => Promise<void>,
): Promise<void> {
  const child = spawnSim(env);
  const exited = once(child, 'exit');
  try {
    let url: string | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url) break;
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await use(url ?? '');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
}

/** Starts the simulator with a bad environment; resolves with its exit code and stderr. */
async function refused(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawnSim(env);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

it('npm run sim serves the Stripe API and /_sim/ on STRIPE_SIM_PORT and stops on SIGTERM', async () => {
  await withSim({ STRIPE_SIM_SEED: '3' }, async (url) => {
    const health = await fetch(`${url}/_sim/health`);
    expect(health.status).toBe(200);
    const customer = await stripeClient({ port: Number(new URL(url).port) }).customers.create({});
    expect(customer.id).toMatch(/^cus_/);
  });
});

it('npm run sim refuses a webhook URL without a secret, naming the variable', async () => {
  const { code, stderr } = await refused({ STRIPE_SIM_WEBHOOK_URL: 'http://127.0.0.1:1/hook' });
  expect(code).toBe(1);
  expect(stderr).toContain('STRIPE_SIM_WEBHOOK_SECRET');
});

it('npm run sim takes its search lag from STRIPE_SIM_SEARCH_LAG_MS and refuses a bad one, naming the variable', async () => {
  for (const bad of ['2s', '', '86400001']) {
    const { code, stderr } = await refused({ STRIPE_SIM_SEARCH_LAG_MS: bad });
    expect(code).toBe(1);
    expect(stderr).toContain('STRIPE_SIM_SEARCH_LAG_MS');
  }
  await withSim({ STRIPE_SIM_SEARCH_LAG_MS: '60000' }, async (url) => {
    const lag = (await (await fetch(`${url}/_sim/search/lag`)).json()) as { ms: number };
    expect(lag).toEqual({ ms: 60_000 });
  });
});
