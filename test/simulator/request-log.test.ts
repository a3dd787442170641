// The request log: which keys reached the simulator's "Stripe", whether each answer was a replay,
// the status sent (or that would have been sent when a fault dropped it), the order it concerns;
// filters in-process and over GET /_sim/requests; the bound.
import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FaultKind,
  REQUEST_LOG_LIMIT,
  type RequestLogEntry,
  type Simulator,
} from '../../src/simulator/index.js';
import { RequestLog } from '../../src/simulator/request-log.js';
import { T0, startTestSimulator, stripeError } from './sim-fixture.js';

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator());
});
afterEach(async () => {
  await sim.close();
});

const order = (orderId: string) => ({
  amount: 2500,
  currency: 'usd',
  metadata: { order_id: orderId },
});

async function httpRequests(query = ''): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${sim.url}/_sim/requests${query}`);
  return { status: response.status, body: await response.json() };
}

describe('request log', () => {
  it("a lost create response shows stripe-node's own retry: two requests with the same key, the first executed and dropped, the second replayed", async () => {
    // One drop: stripe-node retries a reset connection once by itself, with the same key.
    sim.faults.add({ kind: FaultKind.dropAfter, method: 'POST', path: '/v1/payment_intents' });
    const pi = await stripe.paymentIntents.create(order('o-lost'), {
      idempotencyKey: 'billing/charge:o-lost/create/0',
    });
    expect(pi.lastResponse.headers['idempotent-replayed']).toBe('true');

    const seen = sim.requests({ order_id: 'o-lost' });
    expect(seen).toEqual([
      {
        seq: 1,
        at: T0,
        method: 'POST',
        path: '/v1/payment_intents',
        requestId: expect.stringMatching(/^req_/) as string,
        idempotencyKey: 'billing/charge:o-lost/create/0',
        replayed: false,
        executed: true,
        status: 200,
        dropped: true,
        faults: [FaultKind.dropAfter],
        orderId: 'o-lost',
        paymentIntentId: pi.id,
      },
      {
        seq: 2,
        at: T0,
        method: 'POST',
        path: '/v1/payment_intents',
        requestId: pi.lastResponse.requestId,
        idempotencyKey: 'billing/charge:o-lost/create/0',
        replayed: true,
        executed: false,
        status: 200,
        orderId: 'o-lost',
        paymentIntentId: pi.id,
      },
    ] satisfies RequestLogEntry[]);
  });

  it('confirm, retrieve and cancel carry the intent’s metadata.order_id and id; GETs have no key; stripe-node keys every POST', async () => {
    const paid = await stripe.paymentIntents.create(order('o-flow'));
    await stripe.paymentIntents.confirm(
      paid.id,
      { payment_method: 'pm_card_visa', off_session: true },
      { idempotencyKey: 'billing/charge:o-flow/confirm/1' },
    );
    await stripe.paymentIntents.retrieve(paid.id);
    const other = await stripe.paymentIntents.create(order('o-flow'));
    await stripe.paymentIntents.cancel(other.id);
    await stripe.customers.create({});

    const flow = sim.requests({ order_id: 'o-flow' });
    expect(flow.map((r) => [r.method, r.path, r.paymentIntentId, r.status])).toEqual([
      ['POST', '/v1/payment_intents', paid.id, 200],
      ['POST', `/v1/payment_intents/${paid.id}/confirm`, paid.id, 200],
      ['GET', `/v1/payment_intents/${paid.id}`, paid.id, 200],
      ['POST', '/v1/payment_intents', other.id, 200],
      ['POST', `/v1/payment_intents/${other.id}/cancel`, other.id, 200],
    ]);
    expect(flow[1]?.idempotencyKey).toBe('billing/charge:o-flow/confirm/1');
    expect(flow[2]?.idempotencyKey).toBeNull();
    expect(flow[0]?.idempotencyKey).toMatch(/^stripe-node-retry-/);
    const customer = sim.requests({ path: '/v1/customers' });
    expect(customer).toMatchObject([{ orderId: null, paymentIntentId: null, status: 200 }]);
  });

  it('faults answered before execution are logged with the status they sent; drop_before with none; error_500_after as executed', async () => {
    sim.faults.add({ kind: FaultKind.rateLimit429, method: 'POST', path: '/v1/payment_intents' });
    await stripeError(() =>
      stripe.paymentIntents.create(order('o-faults'), { idempotencyKey: 'k1' }),
    );
    const pi = await stripe.paymentIntents.create(order('o-faults'), { idempotencyKey: 'k1' });

    sim.faults.add({
      kind: FaultKind.dropBefore,
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      times: 2,
    });
    const confirm = () =>
      stripe.paymentIntents.confirm(
        pi.id,
        { payment_method: 'pm_card_visa', off_session: true },
        { idempotencyKey: 'k2' },
      );
    await stripeError(confirm);
    sim.faults.add({
      kind: FaultKind.error500After,
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
    });
    expect((await stripeError(confirm)).statusCode).toBe(500);
    expect((await stripeError(confirm)).statusCode).toBe(500);

    const logged = sim.requests({ order_id: 'o-faults' });
    const droppedBefore = {
      key: 'k2',
      status: null,
      executed: false,
      replayed: false,
      dropped: true,
      faults: ['drop_before'],
    };
    expect(
      logged.map((r) => ({
        key: r.idempotencyKey,
        status: r.status,
        executed: r.executed,
        replayed: r.replayed,
        dropped: r.dropped ?? false,
        faults: r.faults ?? [],
      })),
    ).toEqual([
      {
        key: 'k1',
        status: 429,
        executed: false,
        replayed: false,
        dropped: false,
        faults: ['rate_limit_429'],
      },
      { key: 'k1', status: 200, executed: true, replayed: false, dropped: false, faults: [] },
      // Twice: stripe-node retries a reset connection once by itself.
      droppedBefore,
      droppedBefore,
      {
        key: 'k2',
        status: 500,
        executed: true,
        replayed: false,
        dropped: false,
        faults: ['error_500_after'],
      },
      { key: 'k2', status: 500, executed: false, replayed: true, dropped: false, faults: [] },
    ]);
    expect(sim.ledger().orders['o-faults']?.successfulCharges).toBe(1);
  });

  it('an unauthenticated request and a declined create with confirm=true are logged too', async () => {
    expect((await fetch(`${sim.url}/v1/payment_intents`)).status).toBe(401);
    const declined = await stripeError(() =>
      stripe.paymentIntents.create({
        ...order('o-declined'),
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
        off_session: true,
      }),
    );
    expect(declined.statusCode).toBe(402);
    expect(sim.requests()).toMatchObject([
      { method: 'GET', path: '/v1/payment_intents', status: 401, executed: false },
      {
        method: 'POST',
        status: 402,
        executed: true,
        orderId: 'o-declined',
        paymentIntentId: declined.payment_intent?.id,
      },
    ]);
  });

  it('a search that pins metadata.order_id is logged under that order', async () => {
    await stripe.paymentIntents.search({ query: "metadata['order_id']:'o:search.1'" });
    await stripe.paymentIntents.search({ query: "status:'succeeded'" });
    expect(sim.requests({ order_id: 'o:search.1' })).toMatchObject([
      { method: 'GET', path: '/v1/payment_intents/search', status: 200, paymentIntentId: null },
    ]);
    expect(sim.requests({ path: '/v1/payment_intents/search' })).toHaveLength(2);
  });

  it('GET /_sim/requests filters by order_id, path pattern, method and since (a seq cursor), and rejects unknown filters', async () => {
    sim.advanceTime(5000);
    const a = await stripe.paymentIntents.create(order('o-f1'));
    const b = await stripe.paymentIntents.create(order('o-f2'));
    await stripe.paymentIntents.confirm(a.id, { payment_method: 'pm_card_visa' });
    await stripe.paymentIntents.confirm(b.id, { payment_method: 'pm_card_visa' });
    await stripe.paymentIntents.retrieve(b.id);

    const all = await httpRequests();
    expect(all.status).toBe(200);
    const entries = (all.body as { requests: RequestLogEntry[] }).requests;
    expect(entries.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries.every((r) => r.at === T0 + 5000)).toBe(true);
    expect(entries).toEqual(sim.requests());

    const seqs = async (query: string) =>
      ((await httpRequests(query)).body as { requests: RequestLogEntry[] }).requests.map(
        (r) => r.seq,
      );
    expect(await seqs('?order_id=o-f2')).toEqual([2, 4, 5]);
    expect(await seqs('?path=/v1/payment_intents/:id/confirm')).toEqual([3, 4]);
    expect(await seqs(`?path=/v1/payment_intents/${b.id}`)).toEqual([5]);
    expect(await seqs('?order_id=o-f2&method=POST')).toEqual([2, 4]);
    expect(await seqs('?since=3')).toEqual([4, 5]);
    expect(await seqs('?since=3&order_id=o-f1')).toEqual([]);
    expect(sim.requests({ since: 4, order_id: 'o-f2' }).map((r) => r.seq)).toEqual([5]);

    for (const bad of ['?orderId=o-f1', '?since=-1', '?since=abc', '?path=v1']) {
      expect((await httpRequests(bad)).status).toBe(400);
    }
    // Control requests are not API requests: none of the above was logged.
    expect(sim.requests()).toHaveLength(5);
  });
});

describe('request log bound', () => {
  it('a simulator keeps only the last requestLogLimit requests; seq keeps counting and since still works across the wrap', async () => {
    const small = await startTestSimulator({ requestLogLimit: 3 });
    try {
      for (let i = 0; i < 7; i++) await small.stripe.customers.create({});
      expect(small.sim.requests().map((r) => r.seq)).toEqual([5, 6, 7]);
      expect(small.sim.requests({ since: 5 }).map((r) => r.seq)).toEqual([6, 7]);
      expect(small.sim.requests({ since: 1 }).map((r) => r.seq)).toEqual([5, 6, 7]);
      expect(small.sim.requests({ since: 7 })).toEqual([]);
    } finally {
      await small.sim.close();
    }
  });

  it(`the default bound is ${REQUEST_LOG_LIMIT.toLocaleString('en')} entries`, () => {
    const log = new RequestLog();
    const record = {
      at: T0,
      method: 'GET',
      path: '/v1/customers',
      requestId: 'req_x',
      idempotencyKey: null,
      replayed: false,
      executed: true,
      status: 200,
      orderId: null,
      paymentIntentId: null,
    };
    for (let i = 0; i < REQUEST_LOG_LIMIT + 5; i++) log.record(record);
    const kept = log.list();
    expect(kept).toHaveLength(REQUEST_LOG_LIMIT);
    expect(kept[0]?.seq).toBe(6);
    expect(kept.at(-1)?.seq).toBe(REQUEST_LOG_LIMIT + 5);
    expect(() => new RequestLog(0)).toThrow(RangeError);
  });
});
