// `npm run sim`: the standalone entry starts on STRIPE_SIM_PORT, serves the API and the /_sim/
// controls, and exits cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { stripeClient } from './sim-fixture.js';

const entry = fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url));

it('npm run sim serves the Stripe API and /_sim/ on STRIPE_SIM_PORT and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, STRIPE_SIM_PORT: '0', STRIPE_SIM_SEED: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  try {
    const lines = createInterface({ input: child.stdout });
    let url: string | undefined;
    for await (const line of lines) {
      url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (url) break;
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/_sim/health`);
    expect(health.status).toBe(200);
    const customer = await stripeClient({ port: Number(new URL(url ?? '').port) }).customers.create(
      {},
    );
    expect(customer.id).toMatch(/^cus_/);
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
});

it('npm run sim refuses a webhook URL without a secret, naming the variable', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      ...process.env,
      STRIPE_SIM_PORT: '0',
      STRIPE_SIM_WEBHOOK_URL: 'http://127.0.0.1:1/hook',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(1);
  expect(stderr).toContain('STRIPE_SIM_WEBHOOK_SECRET');
});
