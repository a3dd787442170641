// Figure 1, webhook ingest: signed events through the real receiver over HTTP into signals of
// running charges, against a bare loop of `signal` calls with the same payloads and concurrency
// on the same server. Both sides end when the server has accepted the signal (invariant 5).
import { Agent, request } from 'node:http';
import Stripe from 'stripe';
import { BillingClient } from '../src/client/index.js';
import type { StripeEventSignal } from '../src/shared/schemas.js';
import { stripeEventSignal } from '../src/workflows/messages.js';
import { mergeRuns, pollUntil, progress, runClosedLoop, type RunStats } from './measure.js';
import type { BenchStack } from './stack.js';

export interface IngestSizes {
  /** Running charges the events are about (each in dunning, its worker stopped). */
  targets: number;
  /** Events per round and side. */
  events: number;
  concurrency: number;
  /** Rounds of (bare, receiver), alternated so drift hits both sides alike. */
  rounds: number;
}

export interface IngestResult {
  sizes: IngestSizes;
  receiver: RunStats;
  bareSignals: RunStats;
  /** receiver events/s ÷ bare signals/s. */
  ratio: number;
  /** The same ratio in each round, in order. */
  roundRatios: number[];
}

/** The task queue of the ingest targets; its worker stops before the measurement. */
const TARGET_QUEUE = 'bench-ingest';

interface Target {
  workflowId: string;
  paymentIntentId: string;
}

/** Charges in dunning (a soft decline, next attempt in 30 days): real targets for `stripeEvent`. */
async function startTargets(stack: BenchStack, count: number, runId: string): Promise<Target[]> {
  const billing = new BillingClient(stack.client, { taskQueue: TARGET_QUEUE });
  const worker = await stack.createWorker(TARGET_QUEUE);
  return worker.runUntil(async () => {
    const handles = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        billing.startCharge({
          orderId: `${runId}-ingest-${i}`,
          customerId: stack.customerId,
          amount: 1500,
          currency: 'usd',
          paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
          dunning: { retryDelaysDays: [30] },
        }),
      ),
    );
    return Promise.all(
      handles.map(async (handle) => {
        const status = await pollUntil(
          async () => {
            const s = await handle.status();
            return s.state === 'dunning' ? s : undefined;
          },
          `${handle.workflowId} to reach dunning`,
          { everyMs: 100, timeoutMs: 60_000 },
        );
        return { workflowId: handle.workflowId, paymentIntentId: status.paymentIntentId! };
      }),
    );
  });
}

interface Prepared {
  signals: { workflowId: string; signal: StripeEventSignal }[];
  bodies: { body: string; signature: string }[];
}

/** `count` Stripe-shaped event bodies round-robin over the targets, signed as Stripe signs. */
function prepare(stack: BenchStack, targets: Target[], count: number, tag: string): Prepared {
  const created = Math.floor(Date.now() / 1000);
  const signals: Prepared['signals'] = [];
  const bodies: Prepared['bodies'] = [];
  for (let i = 0; i < count; i++) {
    const target = targets[i % targets.length]!;
    const id = `evt_bench_${tag.replace(/[^A-Za-z0-9_]/g, '_')}_${i}`;
    const type = 'payment_intent.payment_failed';
    const body = JSON.stringify({
      id,
      object: 'event',
      api_version: '2026-10-28.endive',
      created,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: {
        object: {
          id: target.paymentIntentId,
          object: 'payment_intent',
          customer: stack.customerId,
          metadata: { workflow_id: target.workflowId },
        },
      },
    });
    bodies.push({
      body,
      signature: Stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: stack.webhookSecret,
      }),
    });
    signals.push({
      workflowId: target.workflowId,
      signal: { id, type, created, objectId: target.paymentIntentId },
    });
  }
  return { signals, bodies };
}

/** POSTs one signed body to the receiver on a keep-alive connection; resolves on 200. */
function post(agent: Agent, url: URL, body: string, signature: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'stripe-signature': signature,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(
                new Error(
                  `receiver answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`,
                ),
              ),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function benchIngest(
  stack: BenchStack,
  sizes: IngestSizes,
  runId: string,
): Promise<IngestResult> {
  progress(`ingest: bringing ${sizes.targets} charges into dunning`);
  const targets = await startTargets(stack, sizes.targets, runId);
  const url = new URL(stack.receiver.webhookUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: sizes.concurrency });
  const bare: RunStats[] = [];
  const ours: RunStats[] = [];
  try {
    // Warm-up (connections, JIT, the targets' first signal): not counted.
    const warm = prepare(stack, targets, Math.min(200, sizes.events), `${runId}_warm`);
    await runClosedLoop(warm.bodies.length, sizes.concurrency, (i) =>
      post(agent, url, warm.bodies[i]!.body, warm.bodies[i]!.signature),
    );
    for (let round = 0; round < sizes.rounds; round++) {
      const a = prepare(stack, targets, sizes.events, `${runId}_bare${round}`);
      const b = prepare(stack, targets, sizes.events, `${runId}_recv${round}`);
      const signal = (i: number) => {
        const { workflowId, signal } = a.signals[i]!;
        return stack.client.workflow.getHandle(workflowId).signal(stripeEventSignal, signal);
      };
      const runBare = () => runClosedLoop(sizes.events, sizes.concurrency, signal);
      const runOurs = () =>
        runClosedLoop(sizes.events, sizes.concurrency, (i) =>
          post(agent, url, b.bodies[i]!.body, b.bodies[i]!.signature),
        );
      // Every signal lengthens the targets' histories, so whichever side runs second is slower:
      // the sides take turns going first.
      let bareRun: RunStats;
      let oursRun: RunStats;
      if (round % 2 === 0) {
        bareRun = await runBare();
        oursRun = await runOurs();
      } else {
        oursRun = await runOurs();
        bareRun = await runBare();
      }
      bare.push(bareRun);
      ours.push(oursRun);
      progress(
        `ingest round ${round + 1}/${sizes.rounds}: receiver ${oursRun.perSecond.toFixed(0)}/s, bare signals ${bareRun.perSecond.toFixed(0)}/s`,
      );
    }
  } finally {
    agent.destroy();
  }
  // The targets stay parked (no worker polls their queue); terminating them is not measured.
  await Promise.all(
    targets.map((t) => stack.client.workflow.getHandle(t.workflowId).terminate('bench over')),
  );
  const receiver = mergeRuns(ours);
  const bareSignals = mergeRuns(bare);
  return {
    sizes,
    receiver,
    bareSignals,
    ratio: receiver.perSecond / bareSignals.perSecond,
    roundRatios: ours.map((r, i) => r.perSecond / bare[i]!.perSecond),
  };
}
