// Figure: a merchant's ordinary webhook stream, open loop. Signed events at a fixed rate, most of
// them of types no workflow handles (invoices, charges, products, balances), the rest handled
// types that no charge owns (intents of other systems, customers without an open charge), so
// they are kept as unmatched. Counts the answers (the figure is the number of 503s: each is a
// redelivery, and an endpoint that keeps failing gets disabled by Stripe) and the ack latency.
// Runnable alone: `npx tsx bench/merchant-stream.ts [--events 3000] [--rate 100] [--unhandled 0.7]
// [--webhook-url URL --secret whsec_…]` (without a URL it starts its own dev server, worker and
// receiver; with one it drives that receiver, e.g. `npm run cluster`'s http://127.0.0.1:3000/webhooks/stripe).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Worker } from '@temporalio/worker';
import Stripe from 'stripe';
import { createActivities } from '../src/activities/index.js';
import { createStripeClient } from '../src/activities/stripe-client.js';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { createLocalTemporal } from '../src/embedded/dev-server.js';
import { devServerExecutable } from '../src/embedded/servers.js';
import { OutboxNotifier } from '../src/notifications/index.js';
import { billingSearchAttributes } from '../src/shared/search-attributes.js';
import { startSimulator } from '../src/simulator/index.js';
import { createStripeWebhookHandler } from '../src/webhooks/handler.js';
import { DEFAULT_BODY_LIMIT_BYTES, startWebhookServer } from '../src/webhooks/index.js';
import { BENCH_TASK_QUEUE, type BenchStack } from './stack.js';

export interface MerchantStreamOptions {
  events: number;
  /** Events sent per second (open loop: a slow answer does not slow the sender). */
  rate: number;
  /** Share of events of types no workflow handles. */
  unhandledShare: number;
}

export interface MerchantStreamResult extends MerchantStreamOptions {
  /** Where the events went. */
  target: string;
  /** Answers by HTTP status (`error` for a request that got none). */
  answers: Record<string, number>;
  answers503: number;
  /** Client-side ack latency, ms. */
  ackMs: { p50: number; p99: number; max: number };
  /** Wall seconds from the first send to the last answer. */
  seconds: number;
}

/** Types a merchant's endpoint gets that no billing workflow handles. */
const UNHANDLED_TYPES = [
  ['invoice.paid', 'in', 'invoice'],
  ['invoice.created', 'in', 'invoice'],
  ['charge.succeeded', 'ch', 'charge'],
  ['charge.updated', 'ch', 'charge'],
  ['customer.created', 'cus', 'customer'],
  ['product.updated', 'prod', 'product'],
  ['balance.available', 'bal', 'balance'],
] as const;

/** The `i`-th event of the stream: deterministic, unique ids per run. */
export function merchantEvent(i: number, run: string, unhandledShare: number): object {
  const created = Math.floor(Date.now() / 1000);
  const id = `evt_ms_${run}_${i}`;
  // Spread the unhandled ones evenly: event i is unhandled when the running share says so.
  const unhandled = Math.floor((i + 1) * unhandledShare) > Math.floor(i * unhandledShare);
  if (unhandled) {
    const [type, prefix, object] = UNHANDLED_TYPES[i % UNHANDLED_TYPES.length]!;
    return {
      id,
      object: 'event',
      type,
      created,
      data: { object: { id: `${prefix}_${run}_${i}`, object } },
    };
  }
  if (i % 3 === 0)
    return {
      id,
      object: 'event',
      type: 'payment_method.attached',
      created,
      data: {
        object: {
          id: `pm_${run}_${i}`,
          object: 'payment_method',
          customer: `cus_ms_${run}_${i % 50}`,
        },
      },
    };
  return {
    id,
    object: 'event',
    type: i % 2 === 0 ? 'payment_intent.processing' : 'payment_intent.succeeded',
    created,
    data: { object: { id: `pi_ms_${run}_${i}`, object: 'payment_intent', metadata: {} } },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Sends the stream to `webhookUrl`, signed with `secret`, and counts the answers. */
export async function sendMerchantStream(
  webhookUrl: string,
  secret: string,
  options: MerchantStreamOptions,
): Promise<MerchantStreamResult> {
  const run = Date.now().toString(36);
  const answers: Record<string, number> = {};
  const latencies: number[] = [];
  const intervalMs = 1000 / options.rate;
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < options.events; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const payload = JSON.stringify(merchantEvent(i, run, options.unhandledShare));
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    const sent = performance.now();
    sends.push(
      fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
        signal: AbortSignal.timeout(30_000),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          latencies.push(performance.now() - sent);
          answers[response.status] = (answers[response.status] ?? 0) + 1;
        },
        () => {
          answers.error = (answers.error ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(sends);
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    ...options,
    target: webhookUrl,
    answers,
    answers503: answers[503] ?? 0,
    ackMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? 0),
    },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

/** The stream as a figure of `npm run bench`: the bench stack's receiver, with its worker running. */
export async function benchMerchantStream(
  stack: BenchStack,
  options: MerchantStreamOptions,
): Promise<MerchantStreamResult> {
  const worker = await stack.createWorker(BENCH_TASK_QUEUE);
  return worker.runUntil(() =>
    sendMerchantStream(stack.receiver.webhookUrl, stack.webhookSecret, options),
  );
}

/** The stream against a stack of its own: dev server, a billing worker, the receiver. */
export async function runMerchantStreamOnDevServer(
  options: MerchantStreamOptions,
): Promise<MerchantStreamResult> {
  const dir = mkdtempSync(join(tmpdir(), 'durable-billing-merchant-stream-'));
  const secret = 'whsec_merchant_stream';
  const taskQueue = 'billing';
  const [env, bundle, sim] = await Promise.all([
    createLocalTemporal({
      server: {
        executable: devServerExecutable(),
        dbFilename: join(dir, 'temporal.db'),
        searchAttributes: [...billingSearchAttributes],
        extraArgs: ['--sqlite-pragma', 'journal_mode=wal'],
      },
    }),
    bundleWorkflows(),
    startSimulator({ port: 0 }),
  ]);
  const notifier = new OutboxNotifier({ path: join(dir, 'outbox.jsonl') });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    activities: createActivities({
      stripe: createStripeClient({ secretKey: 'sk_test_stream', apiBase: sim.url }),
      notifier,
    }),
  });
  const receiver = await startWebhookServer({
    handler: createStripeWebhookHandler({ client: env.client, secrets: [secret], taskQueue }),
    port: 0,
    bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
  });
  try {
    return await worker.runUntil(() => sendMerchantStream(receiver.webhookUrl, secret, options));
  } finally {
    await receiver.close();
    await sim.close();
    await notifier.close();
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '3000' },
      rate: { type: 'string', default: '100' },
      unhandled: { type: 'string', default: '0.7' },
      'webhook-url': { type: 'string' },
      secret: { type: 'string', default: 'whsec_cluster' },
    },
    strict: true,
  });
  const options: MerchantStreamOptions = {
    events: Number(values.events),
    rate: Number(values.rate),
    unhandledShare: Number(values.unhandled),
  };
  const url = values['webhook-url'];
  const result = await (url === undefined
    ? runMerchantStreamOnDevServer(options)
    : sendMerchantStream(url, values.secret, options));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
