// The package as an app installs it: `npm pack` (prepack builds dist/), the tarball installed with
// `--omit=dev` into an empty app and into a copy of examples/shop, outside this repository so
// nothing resolves from its node_modules. Then: the entry points import, the shipped
// declarations type-check an app under --strict, the installed CLI runs without tsx, and the
// shop charges one order end to end over HTTP (its route, its webhook mount, the packaged worker
// bundling the workflows from node_modules) on the dev server and the simulator.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStripeClient } from '../../src/activities/stripe-client.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const scratch = mkdtempSync(join(tmpdir(), 'durable-billing-package-'));
let tarball: string;

/** Runs a command to completion; fails the test with its output when it exits non-zero. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  return result.stdout;
}

/** `npm install --omit=dev` of the tarball (plus the app's own dependencies) from npm's cache. */
function installTarball(dir: string): void {
  run(
    'npm',
    ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball],
    dir,
  );
}

const children: ChildProcess[] = [];

/** Starts `node <args>` in `cwd`; `printed` resolves when its output matches, `exited` at exit. */
function start(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  let output = '';
  const child = spawn('node', args, { cwd, env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const waiting: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (data: Buffer) => {
    output += data.toString();
    for (const w of waiting.filter((w) => w.pattern.test(output))) w.resolve();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  children.push(child);
  return {
    child,
    exited,
    output: () => output,
    printed: (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(output)) return resolve();
        waiting.push({ pattern, resolve });
        void exited.then((code) =>
          reject(
            new Error(`${args.join(' ')} exited ${code} before printing ${pattern}:\n${output}`),
          ),
        );
      }),
  };
}

async function stopChildren(): Promise<void> {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(running.map((c) => new Promise((resolve) => c.once('exit', resolve))));
}

beforeAll(() => {
  // prepack runs `npm run build`: a tarball of what the sources compile to now.
  run('npm', ['pack', '--pack-destination', scratch, '--silent'], ROOT);
  const [name] = readdirSync(scratch).filter((f) => f.endsWith('.tgz'));
  if (!name) throw new Error(`npm pack left no tarball in ${scratch}`);
  tarball = join(scratch, name);
}, 300_000);
afterAll(async () => {
  await stopChildren();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the tarball, installed into an empty app with --omit=dev', () => {
  let app: string;
  beforeAll(() => {
    app = join(scratch, 'empty-app');
    cpSync(join(ROOT, 'test', 'package', 'empty-app'), app, { recursive: true });
    installTarball(app);
  }, 300_000);

  it('ships dist/, bin/, README and LICENSE: no sources, tests, bench, chaos or recorded histories', () => {
    const listed = run('tar', ['-tzf', tarball], scratch).trim().split('\n');
    const top = new Set(listed.map((path) => path.split('/')[1]));
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'package.json']);
    expect(listed.filter((path) => /\.test\.|\/test\/|histories|results\.json/.test(path))).toEqual(
      [],
    );
  });

  it('imports BillingClient from the main entry and chargeCustomer from ./workflows', () => {
    expect(
      run(
        'node',
        ['-e', "import('durable-billing').then(m => console.log(typeof m.BillingClient))"],
        app,
      ).trim(),
    ).toBe('function');
    const entries = run('node', ['entries.mjs'], app);
    const { workflows, ...others } = JSON.parse(entries) as { workflows: string[] };
    expect(workflows).toEqual(expect.arrayContaining(['chargeCustomer', 'unmatchedEvents']));
    expect(others).toEqual({
      activities: 'function',
      worker: 'function',
      workflowsPath: 'string',
      express: 'function',
      fastify: 'function',
      web: 'function',
      simulator: 'function',
    });
  });

  it('type-checks an app that calls startCharge and result() with tsc --strict', () => {
    run('node', [TSC, '-p', 'tsconfig.json'], app);
  });

  it('runs the installed CLI with production dependencies only: --help lists worker', () => {
    const help = run('npx', ['--no-install', 'durable-billing', '--help'], app);
    expect(help).toMatch(/^ {2}worker\s/m);
    expect(help).toMatch(/^ {2}receiver\s/m);
    expect(help).toMatch(/^ {2}setup\s/m);
  });

  it('runs the installed CLI’s worker and receiver (workflows bundled from node_modules) until SIGTERM, then exits 0', async () => {
    const cli = join(app, 'node_modules', 'durable-billing', 'bin', 'durable-billing.js');
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('installed-cli'),
      STRIPE_API_BASE: 'http://127.0.0.1:9', // never called: no charge is started
      STRIPE_WEBHOOK_SECRET: 'whsec_installed_cli',
      WEBHOOK_PORT: String(await freePort()),
      OUTBOX_PATH: join(app, 'outbox.jsonl'),
      LOG_FORMAT: 'json',
    };
    const worker = start([cli, 'worker'], app, env);
    const receiver = start([cli, 'receiver'], app, env);
    await Promise.all([
      worker.printed(/"msg":"worker polling"/),
      receiver.printed(/"msg":"receiver listening"/),
    ]);
    worker.child.kill('SIGTERM');
    receiver.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    expect(await receiver.exited, receiver.output()).toBe(0);
    expect(worker.output()).toContain('worker stopped');
    expect(receiver.output()).toContain('receiver stopped');
  }, 120_000);
});

describe('examples/shop, installed from the tarball', () => {
  let shop: string;
  let sim: Simulator;
  const SECRET = 'whsec_example_shop';

  beforeAll(async () => {
    shop = join(scratch, 'shop');
    cpSync(join(ROOT, 'examples', 'shop'), shop, {
      recursive: true,
      filter: (source) => !/node_modules|dist/.test(source.slice(ROOT.length)),
    });
    installTarball(shop);
    // The shop's own type declarations are dev dependencies: added for the type-check only
    // (types do not change what runs), then the shop is compiled with the repository's tsc.
    run(
      'npm',
      [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '@types/express@5.0.6',
        '@types/node@20.19.43',
      ],
      shop,
    );
    run('node', [TSC, '-p', 'tsconfig.json'], shop);
    sim = await startSimulator({ port: 0 });
  }, 300_000);
  afterAll(async () => {
    await stopChildren();
    await sim?.close();
  });

  it('charges an order from its route, takes the webhooks at its mount, on the packaged worker', async () => {
    const taskQueue = uniqueTaskQueue('shop');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const temporal = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_TASK_QUEUE: taskQueue,
    };
    const worker = start(['dist/worker.js'], shop, {
      ...temporal,
      STRIPE_API_BASE: sim.url,
      OUTBOX_PATH: join(shop, 'outbox.jsonl'),
      WORKFLOW_BUNDLE_PATH: '', // bundle from node_modules, as an app's worker does
    });
    const server = start(['dist/server.js'], shop, {
      ...temporal,
      STRIPE_WEBHOOK_SECRET: SECRET,
      PORT: String(port),
    });
    sim.setWebhookTarget({ url: `${base}/webhooks/stripe`, secrets: [SECRET] });

    const stripe = createStripeClient({ secretKey: 'sk_test_shop', apiBase: sim.url });
    const customer = await stripe.customers.create({ email: 'shopper@example.com' });
    const orderId = `shop-${process.pid}-${Date.now()}`;
    await Promise.all([server.printed(/shop listening/), worker.printed(/shop worker polling/)]);
    const paid = await fetch(`${base}/orders/${orderId}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: customer.id,
        amount: 1500,
        paymentMethodId: 'pm_card_visa',
      }),
    });
    expect(paid.status).toBe(202);
    const outcome = await fetch(`${base}/orders/${orderId}?wait=1`);
    expect(outcome.status, `${server.output()}\n${worker.output()}`).toBe(200);
    expect(await outcome.json()).toMatchObject({ outcome: 'succeeded', amount: 1500 });
    expect(sim.ledger().orders[orderId]?.successfulCharges).toBe(1);

    // Stripe's webhooks for the order reached the shop's mount and were acknowledged there.
    await sim.flushWebhooks();
    const events = sim
      .events()
      .filter(
        (e) =>
          (e.data.object as { metadata?: Record<string, string> }).metadata?.order_id === orderId,
      )
      .map((e) => e.id);
    expect(events.length).toBeGreaterThan(0);
    const acknowledged = new Set(
      sim
        .webhookDeliveries()
        .filter((d) => d.result === 200)
        .map((d) => d.eventId),
    );
    expect(events.filter((id) => !acknowledged.has(id))).toEqual([]);
  }, 180_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
