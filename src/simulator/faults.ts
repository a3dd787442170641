// Fault injection for API requests: rules matched by method + path pattern and applied to the
// Nth match, the next N matches, or with a seeded probability. The server asks `take()` once per
// request and acts on the kinds it gets back.
import { z } from 'zod';
import { seededRandom } from './random.js';
import { matchPath } from './router.js';

/** What a fault does to a matching API request. */
export const FaultKind = {
  /** Destroy the socket before anything runs: nothing executed, nothing saved. */
  dropBefore: 'drop_before',
  /** Execute, save the idempotent response, then destroy the socket: the lost response. */
  dropAfter: 'drop_after',
  /** Answer 500 without executing; the 500 is saved under the idempotency key (Stripe does). */
  error500Before: 'error_500_before',
  /** Execute (the side effect happens), then answer 500 and save that 500 under the key. */
  error500After: 'error_500_after',
  /** 409 `lock_timeout` with `Stripe-Should-Retry: true`; nothing executed or saved. */
  lockTimeout409: 'lock_timeout_409',
  /** 409 `idempotency_key_in_use`, as if a concurrent request held the key; nothing executed. */
  idempotencyKeyInUse: 'idempotency_key_in_use',
  /** 429 `rate_limit` with `Stripe-Should-Retry: true`; nothing executed or saved. */
  rateLimit429: 'rate_limit_429',
  /** Wait `latencyMs` (real time, while holding the idempotency key) before executing. */
  latency: 'latency',
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/**
 * When a rule applies, shared by API and webhook faults: at the `nth` match (counted from when
 * the rule was added) and the `times - 1` after it; or each match with `probability` (seeded),
 * at most `times`; or else the next `times` matches. `times` defaults to 1, or unlimited with
 * a probability.
 */
export const ruleSchedule = {
  nth: z.number().int().positive().optional(),
  times: z.number().int().positive().optional(),
  probability: z.number().min(0).max(1).optional(),
};

/** A fault rule for API requests (also the JSON body of `POST /_sim/faults`). */
export const faultRuleSchema = z
  .object({
    kind: z.enum(Object.values(FaultKind) as [FaultKind, ...FaultKind[]]),
    method: z.enum(['GET', 'POST', 'DELETE']).optional(),
    /** A path pattern, e.g. `/v1/payment_intents/:id/confirm`; `*` is one segment, `**` the rest. */
    path: z.string().startsWith('/'),
    /** For `latency`: how long to wait, real milliseconds (bounded so a test cannot hang). */
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    ...ruleSchedule,
  })
  .strict();

/** A fault rule for API requests. */
export type FaultRule = z.input<typeof faultRuleSchema>;

interface Armed<R> {
  id: string;
  rule: R;
  seen: number;
  applied: number;
}

/** Rules with the shared schedule; `matches` decides which requests or events a rule is about. */
export class RuleBook<
  R extends {
    nth?: number | undefined;
    times?: number | undefined;
    probability?: number | undefined;
  },
  S,
> {
  private readonly armed: Armed<R>[] = [];
  private counter = 0;
  private readonly dice: () => number;

  constructor(
    private readonly prefix: string,
    seed: number,
    private readonly matches: (rule: R, subject: S) => boolean,
  ) {
    this.dice = seededRandom(seed ^ 0x5eed);
  }

  /** Adds a rule; returns its id. */
  add(rule: R): string {
    const id = `${this.prefix}_${++this.counter}`;
    this.armed.push({ id, rule, seen: 0, applied: 0 });
    return id;
  }

  /** Removes every rule. */
  clear(): void {
    this.armed.length = 0;
  }

  /** Rules still armed, with their ids. */
  list(): (R & { id: string })[] {
    return this.armed.map((a) => ({ ...a.rule, id: a.id }));
  }

  /** The rules that apply to `subject`, counting it against each matching rule. */
  take(subject: S): R[] {
    const applied: R[] = [];
    for (const armed of [...this.armed]) {
      if (!this.matches(armed.rule, subject)) continue;
      armed.seen += 1;
      const { nth, probability } = armed.rule;
      const limit =
        armed.rule.times ?? (probability !== undefined && nth === undefined ? Infinity : 1);
      let fires: boolean;
      if (nth !== undefined) fires = armed.seen >= nth && armed.seen < nth + limit;
      else if (probability !== undefined) fires = this.dice() < probability;
      else fires = true;
      if (fires) {
        armed.applied += 1;
        applied.push(armed.rule);
      }
      const exhausted = nth !== undefined ? armed.seen >= nth + limit - 1 : armed.applied >= limit;
      if (exhausted) this.armed.splice(this.armed.indexOf(armed), 1);
    }
    return applied;
  }
}

/** The API fault rules of one simulator. */
export class FaultBook extends RuleBook<FaultRule, { method: string; path: string }> {
  constructor(seed: number) {
    super(
      'flt',
      seed,
      (rule, request) =>
        (rule.method === undefined || rule.method === request.method) &&
        matchPath(rule.path, request.path) !== undefined,
    );
  }
}
