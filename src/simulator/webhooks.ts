// Webhook delivery: every emitted event is POSTed to the target, signed exactly like Stripe
// (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`), one at a time in order,
// retried on non-2xx with backoff on the simulated clock for up to 3 days, and subject to
// webhook faults (duplicate, reorder, delay, drop, payload and signature tampering).
import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { z } from 'zod';
import type { SimClock } from './clock.js';
import { RuleBook, ruleSchedule } from './faults.js';
import type { StripeEventLike } from './store.js';

/** What a webhook fault does to the delivery of a matching event. */
export const WebhookFaultKind = {
  /** Deliver `copies` times in a row (default 2). */
  duplicate: 'duplicate',
  /** Hold the event back until the next event has been delivered. */
  reorder: 'reorder',
  /** Deliver `delayMs` of simulated time late. */
  delay: 'delay',
  /** Never deliver it (the event is marked failed for `delivery_success`). */
  drop: 'drop',
  /** Deliver with `data.object.metadata` emptied. */
  stripMetadata: 'strip_metadata',
  /** Deliver `data.object` as just `{ id, object }`. */
  thinPayload: 'thin_payload',
  /** First attempt signed with a wrong secret; retries are signed correctly. */
  badSignature: 'bad_signature',
  /** First attempt signed with a timestamp 15 minutes old; retries are signed correctly. */
  staleTimestamp: 'stale_timestamp',
  /** First attempt signed with a timestamp 15 minutes ahead; retries are signed correctly. */
  futureTimestamp: 'future_timestamp',
} as const;
export type WebhookFaultKind = (typeof WebhookFaultKind)[keyof typeof WebhookFaultKind];

/** A webhook fault rule (also the JSON body of `POST /_sim/webhooks/faults`). */
export const webhookFaultRuleSchema = z
  .object({
    kind: z.enum(Object.values(WebhookFaultKind) as [WebhookFaultKind, ...WebhookFaultKind[]]),
    /** Event type to match, exact or `payment_intent.*`; all events when absent. */
    eventType: z.string().optional(),
    copies: z.number().int().min(2).max(20).optional(),
    delayMs: z.number().int().min(0).optional(),
    ...ruleSchedule,
  })
  .strict();

/** A webhook fault rule. */
export type WebhookFaultRule = z.input<typeof webhookFaultRuleSchema>;

/** Where events are delivered; events are signed with the first secret. */
export interface WebhookTarget {
  url: string;
  secrets: string[];
  /**
   * The endpoint's subscription, Stripe's `enabled_events`: exact types, or `*` (the default)
   * for all. An event of another type is not delivered to it (it is still listed by
   * `/v1/events`, with `pending_webhooks: 0`).
   */
  enabledEvents?: readonly string[] | undefined;
}

/** One delivery attempt, for inspection. */
export interface DeliveryAttempt {
  eventId: string;
  type: string;
  attempt: number;
  /** HTTP status, or the network error's code/message. */
  result: number | string;
  at: number;
}

/** Stripe's tolerance is 300 s; tampered timestamps sit well outside it. */
const SKEWED_TIMESTAMP_S = 15 * 60;
/** Stripe retries for up to three days. */
const GIVE_UP_AFTER_MS = 3 * 24 * 60 * 60 * 1000;
/** Backoff between attempts (simulated ms), the last one repeating. */
const BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000];
/** A receiver that does not answer within this (real) time counts as failed. */
const ATTEMPT_TIMEOUT_MS = 10_000;

interface Delivery {
  seq: number;
  event: StripeEventLike;
  dueAt: number;
  attempts: number;
  firstAttemptAt: number | undefined;
  stripMetadata: boolean;
  thin: boolean;
  signatureFault: WebhookFaultKind | undefined;
  held: boolean;
}

/** Signs a payload the way Stripe does; `timestamp` in unix seconds. */
export function signPayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret)
    .update(`${timestamp}.${payload}`, 'utf8')
    .digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

function typeMatches(pattern: string | undefined, type: string): boolean {
  if (pattern === undefined) return true;
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/** Queues, signs and delivers events; see the file comment for the semantics. */
export class WebhookDispatcher {
  readonly faults: RuleBook<WebhookFaultRule, StripeEventLike>;
  private target: WebhookTarget | undefined;
  private pending: Delivery[] = [];
  private seq = 0;
  private readonly outcome = new Map<string, { outstanding: number; failed: boolean }>();
  private readonly attempts: DeliveryAttempt[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly clock: SimClock,
    seed: number,
    /** Signature timestamps: wall time by default, because receivers verify against their own clock. */
    private readonly signingNow: () => number,
    private readonly autoDeliver: boolean,
  ) {
    this.faults = new RuleBook('whf', seed, (rule, event) =>
      typeMatches(rule.eventType, event.type),
    );
  }

  /** Sets or clears the target; events emitted while there is none are not delivered. */
  setTarget(target: WebhookTarget | undefined): void {
    if (target && target.secrets.length === 0)
      throw new Error('a webhook target needs at least one signing secret');
    if (target?.enabledEvents?.length === 0)
      throw new Error('a webhook target\'s enabledEvents needs at least one type, or "*" for all');
    this.target = target;
  }

  /** Queues an event for delivery, applying the webhook fault rules that match it. */
  enqueue(event: StripeEventLike): void {
    if (!this.target || this.closed) return;
    const enabled = this.target.enabledEvents ?? ['*'];
    if (!enabled.includes('*') && !enabled.includes(event.type)) return;
    const rules = this.faults.take(event);
    const has = (kind: WebhookFaultKind) => rules.find((r) => r.kind === kind);
    if (has(WebhookFaultKind.drop)) {
      this.outcome.set(event.id, { outstanding: 0, failed: true });
      return;
    }
    const copies =
      has(WebhookFaultKind.duplicate)?.copies ?? (has(WebhookFaultKind.duplicate) ? 2 : 1);
    const delay = has(WebhookFaultKind.delay)?.delayMs ?? 0;
    const signatureFault = [
      WebhookFaultKind.badSignature,
      WebhookFaultKind.staleTimestamp,
      WebhookFaultKind.futureTimestamp,
    ].find((k) => has(k));
    // A new event overtakes any held (reordered) one.
    const held = this.pending.filter((d) => d.held);
    for (let i = 0; i < copies; i++) {
      this.pending.push({
        seq: this.seq++,
        event,
        dueAt: this.clock.now() + delay,
        attempts: 0,
        firstAttemptAt: undefined,
        stripMetadata: Boolean(has(WebhookFaultKind.stripMetadata)),
        thin: Boolean(has(WebhookFaultKind.thinPayload)),
        signatureFault: i === 0 ? signatureFault : undefined,
        held: i === 0 && Boolean(has(WebhookFaultKind.reorder)),
      });
    }
    for (const d of held) {
      d.held = false;
      d.seq = this.seq++;
    }
    this.outcome.set(event.id, { outstanding: copies, failed: false });
    if (this.autoDeliver) setImmediate(() => this.kick());
  }

  /** `pending` while a delivery is outstanding, `failed` if one was dropped or given up on. */
  status(eventId: string): 'pending' | 'delivered' | 'failed' {
    const outcome = this.outcome.get(eventId);
    if (!outcome) return 'delivered';
    if (outcome.outstanding > 0) return 'pending';
    return outcome.failed ? 'failed' : 'delivered';
  }

  /** Outstanding deliveries of an event (Stripe's `pending_webhooks`). */
  pendingCount(eventId: string): number {
    return this.outcome.get(eventId)?.outstanding ?? 0;
  }

  /** Every attempt so far, oldest first. */
  deliveryAttempts(): DeliveryAttempt[] {
    return this.attempts.map((a) => ({ ...a }));
  }

  /** Starts a background pass over due deliveries unless one is running. */
  kick(): void {
    if (!this.target || this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass(false);
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Delivers everything due now, held (reordered) ones included, and waits for it. */
  async flush(): Promise<void> {
    // Bounded: failures are rescheduled into the future, so each pass drains what is due.
    for (let round = 0; round < 100 && !this.closed; round++) {
      if (this.running) await this.running;
      if (!this.next(true)) return;
      this.running = this.pass(true).finally(() => {
        this.running = undefined;
      });
    }
  }

  /** Stops delivering and aborts in-flight attempts. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    if (this.running) await this.running;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private next(includeHeld: boolean): Delivery | undefined {
    const now = this.clock.now();
    return this.pending
      .filter((d) => d.dueAt <= now && (includeHeld || !d.held))
      .sort((a, b) => a.seq - b.seq)[0];
  }

  private async pass(includeHeld: boolean): Promise<void> {
    // Without a target nothing is delivered, and the same due delivery would come back forever
    // (a loop that never yields): the pass ends, and deliveries wait for a target.
    for (
      let delivery = this.next(includeHeld);
      delivery && !this.closed && this.target;
      delivery = this.next(includeHeld)
    ) {
      await this.attempt(delivery);
    }
  }

  private payload(delivery: Delivery): string {
    const event = structuredClone(delivery.event);
    event.pending_webhooks = this.pendingCount(event.id);
    if (delivery.stripMetadata && 'metadata' in event.data.object) event.data.object.metadata = {};
    if (delivery.thin)
      event.data.object = { id: event.data.object.id, object: event.data.object.object };
    return JSON.stringify(event, null, 2);
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const target = this.target;
    if (!target) return;
    const payload = this.payload(delivery);
    const fault = delivery.attempts === 0 ? delivery.signatureFault : undefined;
    const now = Math.floor(this.signingNow() / 1000);
    const timestamp =
      fault === WebhookFaultKind.staleTimestamp
        ? now - SKEWED_TIMESTAMP_S
        : fault === WebhookFaultKind.futureTimestamp
          ? now + SKEWED_TIMESTAMP_S
          : now;
    const secret =
      fault === WebhookFaultKind.badSignature
        ? `${target.secrets[0] ?? ''}_forged`
        : (target.secrets[0] ?? '');
    delivery.attempts += 1;
    delivery.firstAttemptAt ??= this.clock.now();
    let result: number | string;
    try {
      result = await this.post(target.url, payload, signPayload(payload, secret, timestamp));
    } catch (error) {
      result =
        (error as NodeJS.ErrnoException).code ??
        (error instanceof Error ? error.message : String(error));
    }
    this.attempts.push({
      eventId: delivery.event.id,
      type: delivery.event.type,
      attempt: delivery.attempts,
      result,
      at: this.clock.now(),
    });
    const outcome = this.outcome.get(delivery.event.id);
    const delivered = typeof result === 'number' && result >= 200 && result < 300;
    const exhausted = this.clock.now() - delivery.firstAttemptAt >= GIVE_UP_AFTER_MS;
    if (delivered || exhausted) {
      this.pending = this.pending.filter((d) => d !== delivery);
      if (outcome) {
        outcome.outstanding -= 1;
        if (!delivered) outcome.failed = true;
      }
      return;
    }
    const backoff = BACKOFF_MS[Math.min(delivery.attempts - 1, BACKOFF_MS.length - 1)] ?? 60_000;
    delivery.dueAt = this.clock.now() + backoff;
  }

  /**
   * One POST over a kept-alive connection (node:http, not fetch: a webhook is the simulator's
   * busiest request, and fetch spent several times the CPU per delivery). Answers the status;
   * rejects on a network error, after {@link ATTEMPT_TIMEOUT_MS} without an answer, or when the
   * dispatcher closes. A kept-alive socket that the receiver closed just as it was reused is
   * retried once on a new one (the pattern of Node's `request.reusedSocket` docs): that is not
   * the receiver failing.
   */
  private post(url: string, payload: string, signature: string, fresh = false): Promise<number> {
    const https = url.startsWith('https:');
    return new Promise<number>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent: https ? this.httpsAgent : this.httpAgent,
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(payload),
          'Stripe-Signature': signature,
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        },
        signal: this.abort.signal,
        timeout: ATTEMPT_TIMEOUT_MS,
      });
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })),
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (!fresh && request.reusedSocket && error.code === 'ECONNRESET')
          resolve(this.post(url, payload, signature, true));
        else reject(error);
      });
      request.on('response', (response) => {
        response.on('error', reject);
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.resume(); // the body is drained, not read
      });
      request.end(payload);
    });
  }
}
