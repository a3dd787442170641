// Wires the simulator together: clock, ids, store, resources, idempotency, faults, webhook
// dispatcher and the HTTP server; `startSimulator` is the programmatic entry point.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimClock } from './clock.js';
import { serveControl } from './control.js';
import { FaultBook, faultRuleSchema, type FaultRule } from './faults.js';
import { IdempotencyStore } from './idempotency.js';
import { IdGenerator, randomSeed } from './random.js';
import {
  RequestLog,
  REQUEST_LOG_LIMIT,
  type RequestLogEntry,
  type RequestLogFilter,
} from './request-log.js';
import { customerRoutes } from './resources/customers.js';
import {
  closeDisputeNow,
  disputeRoutes,
  openDisputeNow,
  settleDueDisputes,
  type OpenDispute,
} from './resources/disputes.js';
import { eventRoutes } from './resources/events.js';
import {
  completeAuthentication,
  paymentIntentRoutes,
  settleDuePaymentIntents,
} from './resources/payment-intents.js';
import { paymentMethodRoutes } from './resources/payment-methods.js';
import {
  RefundRuleBook,
  refundRoutes,
  refundRuleSchema,
  settleDueRefunds,
  settleRefundNow,
  type RefundRule,
  type RefundSettlement,
} from './resources/refunds.js';
import { setupIntentRoutes } from './resources/setup-intents.js';
import { Router, type Route, type SimContext } from './router.js';
import { DEFAULT_SEARCH_LAG_MS, searchLagMsSchema } from './search.js';
import { serveApi, type ApiPipeline } from './server.js';
import { Store, type Ledger, type StripeEventLike, type StripeObject } from './store.js';
import {
  WebhookDispatcher,
  webhookFaultRuleSchema,
  type DeliveryAttempt,
  type WebhookFaultRule,
  type WebhookTarget,
} from './webhooks.js';

/** Options for {@link startSimulator}. */
export interface SimulatorOptions {
  /** TCP port; 0 or undefined picks a free one (several simulators per test run work). */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Injectable clock (ms since epoch) under the simulated offset; default Date.now. */
  now?: () => number;
  /** Seeds ids and probabilistic faults; random when absent. */
  seed?: number;
  /** Where to deliver webhooks; signed with the first secret. */
  webhook?: WebhookTarget;
  /** Simulated ms a bank debit stays `processing` before it settles; default 10 000. */
  processingDelayMs?: number;
  /**
   * Simulated ms from a PaymentIntent's creation until `/v1/payment_intents/search` finds it;
   * default 2000, 0 for instant, at most 24 h (Stripe: "searchable in under 1 minute").
   */
  searchLagMs?: number;
  /** How many API requests `requests()` keeps, oldest dropped first; default 100 000. */
  requestLogLimit?: number;
  /** Clock for webhook signature timestamps; default Date.now (receivers check against wall time). */
  signingNow?: () => number;
  /** Deliver webhooks in the background as events happen; default true. `flushWebhooks()` works either way. */
  autoDeliverWebhooks?: boolean;
  /**
   * Real-time interval (ms) at which due settlements and webhook retries run by themselves;
   * default 1000 with the real clock, 0 (off: use advanceTime) with an injected `now`.
   */
  tickIntervalMs?: number;
}

/** A running simulator. */
export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`; pass as STRIPE_API_BASE. */
  url: string;
  port: number;
  /** API fault rules (see FaultKind). */
  faults: { add(rule: FaultRule): string; clear(): void; list(): (FaultRule & { id: string })[] };
  /** Webhook fault rules (see WebhookFaultKind). */
  webhookFaults: { add(rule: WebhookFaultRule): string; clear(): void; list(): WebhookFaultRule[] };
  /**
   * Money moved per PaymentIntent and per `metadata.order_id`: only succeeded charges count as
   * captured; `refunds` (pending and succeeded, per `metadata.refund_id`) and `disputes` appear
   * once an intent or order has one.
   */
  ledger(): Ledger;
  /** Moves the simulated clock forward and settles what became due (bank debits, webhook retries). */
  advanceTime(ms: number): void;
  /** Current simulated time, ms. */
  now(): number;
  /** Every event emitted, oldest first (copies). */
  events(): StripeEventLike[];
  /** Sets or clears the webhook target. */
  setWebhookTarget(target: WebhookTarget | undefined): void;
  /** Delivers every delivery due on the simulated clock (delayed ones need advanceTime first) and waits. */
  flushWebhooks(): Promise<void>;
  /** Every webhook delivery attempt, oldest first. */
  webhookDeliveries(): DeliveryAttempt[];
  /** Every API request received (newest last), with its key, replay flag, status and order; see RequestLogEntry. */
  requests(filter?: RequestLogFilter): RequestLogEntry[];
  /** The current search lag (simulated ms). */
  searchLagMs(): number;
  /** Changes the search lag; intents already old enough become searchable at once. */
  setSearchLagMs(ms: number): void;
  /** Completes the customer's authentication of a `requires_action` intent; false if it is not waiting. */
  authenticate(paymentIntentId: string, outcome?: 'succeed' | 'fail'): boolean;
  /** Refund controls (also under `/_sim/refunds/`). */
  refunds: {
    /**
     * Settles a refund now: `pending` → `succeeded` | `failed`, or `succeeded` → `failed`
     * (`failure_reason` default `expired_or_canceled_card`); emits refund.updated,
     * charge.refund.updated and, on failure, refund.failed. Returns the refund; throws
     * SimControlError (404 unknown, 409 already final).
     */
    settle(refundId: string, settlement: RefundSettlement): StripeObject;
    /** Rules for the next refunds: created pending, settled later or failed later (RefundRule). */
    rules: {
      add(rule: RefundRule): string;
      clear(): void;
      list(): (ReturnType<typeof refundRuleSchema.parse> & { id: string })[];
    };
  };
  /** Dispute controls (also under `/_sim/disputes`): the bank's side. */
  disputes: {
    /** Opens a dispute on a succeeded charge (or an intent's latest charge); returns it. */
    open(dispute: OpenDispute): StripeObject;
    /** Closes a dispute as the bank decides (won / lost for chargebacks, warning_closed for inquiries). */
    close(disputeId: string, status: 'won' | 'lost' | 'warning_closed'): StripeObject;
  };
  /** Stops the server, timers and deliveries. */
  close(): Promise<void>;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const BODY_LIMIT = 1024 * 1024;

/** Starts a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const seed = options.seed ?? randomSeed();
  const clock = new SimClock(options.now ?? Date.now);
  const ids = new IdGenerator(seed);
  const store = new Store(clock, ids);
  const context: SimContext = {
    store,
    clock,
    ids,
    processingDelayMs: options.processingDelayMs ?? 10_000,
    searchLagMs: searchLagMsSchema.parse(options.searchLagMs ?? DEFAULT_SEARCH_LAG_MS),
    refundRules: new RefundRuleBook(seed),
  };
  const requests = new RequestLog(options.requestLogLimit ?? REQUEST_LOG_LIMIT);
  const dispatcher = new WebhookDispatcher(
    clock,
    seed,
    options.signingNow ?? Date.now,
    options.autoDeliverWebhooks ?? true,
  );
  if (options.webhook) dispatcher.setTarget(options.webhook);
  store.onEvent((event) => dispatcher.enqueue(event));

  const routes: Route[] = [
    ...customerRoutes,
    ...paymentMethodRoutes,
    ...paymentIntentRoutes,
    ...setupIntentRoutes,
    ...refundRoutes,
    ...disputeRoutes,
    ...eventRoutes(dispatcher),
  ];
  const sleeps = new Set<() => void>();
  const faults = new FaultBook(seed);
  const settleDue = (): void => {
    settleDuePaymentIntents(context);
    settleDueRefunds(context);
    settleDueDisputes(context);
  };
  const tick = (): void => {
    settleDue();
    dispatcher.kick();
  };
  const pipeline: ApiPipeline = {
    context,
    ids,
    router: new Router(routes),
    faults,
    idempotency: new IdempotencyStore(clock),
    requests,
    tick,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          sleeps.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        sleeps.add(done);
      }),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: string;
    try {
      body = await readBody(req, BODY_LIMIT);
    } catch (error) {
      if (!res.headersSent)
        res.writeHead(413, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({
            error: { type: 'invalid_request_error', message: (error as Error).message },
          }),
        );
      return;
    }
    if ((req.url ?? '').startsWith('/_sim/')) await serveControl(simulator, req, res, body);
    else await serveApi(pipeline, req, res, body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(
        `[stripe-sim] request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const tickIntervalMs = options.tickIntervalMs ?? (options.now ? 0 : 1000);
  const interval = tickIntervalMs > 0 ? setInterval(tick, tickIntervalMs).unref() : undefined;

  const simulator: Simulator = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    faults: {
      add: (rule) => faults.add(faultRuleSchema.parse(rule)),
      clear: () => faults.clear(),
      list: () => faults.list(),
    },
    webhookFaults: {
      add: (rule) => dispatcher.faults.add(webhookFaultRuleSchema.parse(rule)),
      clear: () => dispatcher.faults.clear(),
      list: () => dispatcher.faults.list(),
    },
    ledger: () => store.ledger(),
    advanceTime: (ms) => {
      clock.advance(ms);
      tick();
    },
    now: () => clock.now(),
    events: () =>
      store.events().map((event) => ({
        ...structuredClone(event),
        pending_webhooks: dispatcher.pendingCount(event.id),
      })),
    setWebhookTarget: (target) => dispatcher.setTarget(target),
    flushWebhooks: async () => {
      settleDue();
      await dispatcher.flush();
    },
    webhookDeliveries: () => dispatcher.deliveryAttempts(),
    requests: (filter) => requests.list(filter),
    searchLagMs: () => context.searchLagMs,
    setSearchLagMs: (ms) => {
      context.searchLagMs = searchLagMsSchema.parse(ms);
    },
    authenticate: (paymentIntentId, outcome = 'succeed') =>
      completeAuthentication(context, paymentIntentId, outcome),
    refunds: {
      settle: (refundId, settlement) => settleRefundNow(context, refundId, settlement),
      rules: {
        add: (rule) => context.refundRules.add(refundRuleSchema.parse(rule)),
        clear: () => context.refundRules.clear(),
        list: () => context.refundRules.list(),
      },
    },
    disputes: {
      open: (dispute) => openDisputeNow(context, dispute),
      close: (disputeId, status) => closeDisputeNow(context, disputeId, { status }),
    },
    close: async () => {
      if (interval) clearInterval(interval);
      for (const wake of [...sleeps]) wake();
      await dispatcher.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return simulator;
}
