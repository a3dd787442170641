// Stripe Search is eventually consistent, and so is the simulator's: an intent is searchable only
// once it is searchLagMs old on the simulated clock. Also the query language the project sends:
// metadata['order_id']:'<orderId>' with backslash-escaped quotes.
import type Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SEARCH_LAG_MS,
  IDEMPOTENCY_KEY_TTL_MS,
  SEARCH_LAG_MAX_MS,
  type Simulator,
} from '../../src/simulator/index.js';
import { parseSearchQuery } from '../../src/simulator/search.js';
import { startTestSimulator, stripeError } from './sim-fixture.js';

let sim: Simulator;
let stripe: Stripe;

beforeEach(async () => {
  ({ sim, stripe } = await startTestSimulator());
});
afterEach(async () => {
  await sim.close();
});

const HOUR_MS = 3600 * 1000;

function createFor(orderId: string): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.create({
    amount: 1000,
    currency: 'usd',
    metadata: { order_id: orderId },
  });
}

async function searchIds(query: string): Promise<string[]> {
  return (await stripe.paymentIntents.search({ query })).data.map((pi) => pi.id);
}

const byOrder = (orderId: string) =>
  `metadata['order_id']:'${orderId.replace(/[\\']/g, (c) => `\\${c}`)}'`;

describe('search lag', () => {
  it('search does not find an intent younger than the lag, and finds it once the clock has moved past it; retrieve and list see it at once', async () => {
    const pi = await createFor('o-lag');
    expect(sim.searchLagMs()).toBe(DEFAULT_SEARCH_LAG_MS);

    expect(await searchIds(byOrder('o-lag'))).toEqual([]);
    expect((await stripe.paymentIntents.retrieve(pi.id)).id).toBe(pi.id);
    expect((await stripe.paymentIntents.list()).data.map((p) => p.id)).toEqual([pi.id]);

    sim.advanceTime(DEFAULT_SEARCH_LAG_MS - 1);
    expect(await searchIds(byOrder('o-lag'))).toEqual([]);
    sim.advanceTime(1);
    expect(await searchIds(byOrder('o-lag'))).toEqual([pi.id]);
  });

  it('the lag runs on milliseconds, not on the whole seconds of `created`', async () => {
    sim.advanceTime(900);
    const pi = await createFor('o-ms');
    // created is T0 + 0 s; 2 s after T0 the intent is only 1.1 s old.
    sim.advanceTime(1100);
    expect(await searchIds(byOrder('o-ms'))).toEqual([]);
    sim.advanceTime(900);
    expect(await searchIds(byOrder('o-ms'))).toEqual([pi.id]);
  });

  it('advancing the clock by 25 h makes every intent searchable, even at the longest lag', async () => {
    sim.setSearchLagMs(SEARCH_LAG_MAX_MS);
    const a = await createFor('o-25h');
    sim.advanceTime(IDEMPOTENCY_KEY_TTL_MS - 1);
    expect(await searchIds(byOrder('o-25h'))).toEqual([]);
    const b = await createFor('o-25h');
    sim.advanceTime(25 * HOUR_MS);
    expect(await searchIds(byOrder('o-25h'))).toEqual([b.id, a.id]);
  });

  it('an indexed intent is matched and shown as it is now (real Stripe may show a stale status: retrieve before trusting it)', async () => {
    const pi = await createFor('o-status');
    sim.advanceTime(DEFAULT_SEARCH_LAG_MS);
    await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    const found = await stripe.paymentIntents.search({
      query: `${byOrder('o-status')} AND status:'succeeded'`,
    });
    expect(found.data.map((p) => [p.id, p.status])).toEqual([[pi.id, 'succeeded']]);
  });

  it('startSimulator({ searchLagMs: 0 }) is instantly consistent', async () => {
    const instant = await startTestSimulator({ searchLagMs: 0 });
    try {
      const pi = await instant.stripe.paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        metadata: { order_id: 'o-now' },
      });
      const found = await instant.stripe.paymentIntents.search({ query: byOrder('o-now') });
      expect(found.data.map((p) => p.id)).toEqual([pi.id]);
    } finally {
      await instant.sim.close();
    }
  });

  it('GET and POST /_sim/search/lag read and set the lag; a lag out of range is a 400 and changes nothing', async () => {
    const lag = async (init?: RequestInit) => {
      const response = await fetch(`${sim.url}/_sim/search/lag`, init);
      return { status: response.status, body: await response.json() };
    };
    expect(await lag()).toEqual({ status: 200, body: { ms: DEFAULT_SEARCH_LAG_MS } });
    const pi = await createFor('o-ctl');
    expect(await lag({ method: 'POST', body: JSON.stringify({ ms: 0 }) })).toEqual({
      status: 200,
      body: { ms: 0 },
    });
    expect(await searchIds(byOrder('o-ctl'))).toEqual([pi.id]);

    for (const ms of [-1, 1.5, SEARCH_LAG_MAX_MS + 1, '5']) {
      const refused = await lag({ method: 'POST', body: JSON.stringify({ ms }) });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain('ms');
    }
    expect(sim.searchLagMs()).toBe(0);
    expect(() => sim.setSearchLagMs(-5)).toThrow();
  });
});

describe('the query the project sends', () => {
  it("metadata['order_id']:'<orderId>' finds exactly the order whose id has : . - and _ in it", async () => {
    const orderId = 'shop-1:2026.01_07:Ab9';
    const pi = await createFor(orderId);
    // Decoys: a prefix, a longer id, and the id in another metadata key.
    await createFor('shop-1:2026.01_07');
    await createFor(`${orderId}.2`);
    await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      metadata: { order_ref: orderId },
    });
    sim.advanceTime(DEFAULT_SEARCH_LAG_MS);
    expect(await searchIds(byOrder(orderId))).toEqual([pi.id]);
  });

  it('a metadata pair an update adds is found, one it changes or unsets is not (search answers from an index)', async () => {
    const added = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const moved = await createFor('o-before');
    const unset = await createFor('o-unset');
    await stripe.paymentIntents.update(added.id, { metadata: { order_id: 'o-added' } });
    await stripe.paymentIntents.update(moved.id, { metadata: { order_id: 'o-after' } });
    await stripe.paymentIntents.update(unset.id, { metadata: { order_id: '' } });
    sim.advanceTime(DEFAULT_SEARCH_LAG_MS);
    expect(await searchIds(byOrder('o-added'))).toEqual([added.id]);
    expect(await searchIds(byOrder('o-after'))).toEqual([moved.id]);
    expect(await searchIds(byOrder('o-before'))).toEqual([]);
    expect(await searchIds(byOrder('o-unset'))).toEqual([]);
    // The same pair pinned in an AND query, and not pinned at all (OR): the same answers.
    expect(await searchIds(`${byOrder('o-after')} AND amount:1000`)).toEqual([moved.id]);
    expect(await searchIds(`${byOrder('o-after')} OR ${byOrder('o-added')}`)).toEqual([
      moved.id,
      added.id,
    ]);
  });

  it('a quote inside the value is escaped with a backslash, in single or double quotes; unescaped it is a 400', async () => {
    const single = await createFor("o'brien");
    const double = await createFor('say "hi"');
    sim.advanceTime(DEFAULT_SEARCH_LAG_MS);
    expect(await searchIds("metadata['order_id']:'o\\'brien'")).toEqual([single.id]);
    expect(await searchIds('metadata["order_id"]:"say \\"hi\\""')).toEqual([double.id]);
    // Unescaped, the quote ends the value and leaves `brien'` dangling.
    const unescaped = await stripeError(() =>
      stripe.paymentIntents.search({ query: "metadata['order_id']:'o'brien'" }),
    );
    expect(unescaped).toMatchObject({ statusCode: 400, param: 'query' });
  });

  it('clauses join with AND, OR (any case) or a space (AND); mixing AND and OR or dangling text is a 400', async () => {
    const a = await createFor('o-a');
    const b = await createFor('o-b');
    sim.advanceTime(DEFAULT_SEARCH_LAG_MS);
    expect(await searchIds(`${byOrder('o-a')} or ${byOrder('o-b')}`)).toEqual([b.id, a.id]);
    expect(await searchIds(`${byOrder('o-a')} amount:1000`)).toEqual([a.id]);
    expect(await searchIds(`-${byOrder('o-a')} and currency:'usd'`)).toEqual([b.id]);
    for (const query of [
      `${byOrder('o-a')} AND amount:1000 OR ${byOrder('o-b')}`,
      `${byOrder('o-a')}${byOrder('o-b')}`,
      `${byOrder('o-a')} AND`,
      "metadata['order_id']:o-a",
      "description:'x'",
    ]) {
      const error = await stripeError(() => stripe.paymentIntents.search({ query }));
      expect(error).toMatchObject({ statusCode: 400, param: 'query' });
    }
  });

  it('parseSearchQuery resolves escapes and keeps the key, operator and negation of each clause', () => {
    expect(parseSearchQuery("metadata['order_id']:'a\\'b\\\\c' -amount>=50")).toEqual({
      ok: true,
      query: {
        combinator: 'AND',
        clauses: [
          {
            negated: false,
            field: 'metadata',
            metadataKey: 'order_id',
            operator: ':',
            value: "a'b\\c",
          },
          { negated: true, field: 'amount', metadataKey: undefined, operator: '>=', value: '50' },
        ],
      },
    });
    expect(parseSearchQuery("status:'succeeded' AND").ok).toBe(false);
  });
});
