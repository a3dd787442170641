// Smoke test of `npm run bench`: every figure runs end to end at --quick sizes and the results
// have the documented shape with finite ratios. No timing assertion: the bench's printed
// figures are the performance evidence, never this test. One count is asserted: a create sends
// the same Stripe requests with 10,000 intents on the customer as with none (issue 12).
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../bench/options.js';
import { renderMarkdown, RESULTS_SCHEMA_VERSION } from '../../bench/report.js';
import { runBench } from '../../bench/run.js';

describe('npm run bench --quick', () => {
  it('measures every figure against its same-run baseline and renders the table', async () => {
    const options = parseOptions(['--quick', '--quiet'], {});
    const results = await runBench(options);

    expect(results).toMatchObject({ schemaVersion: RESULTS_SCHEMA_VERSION, mode: 'quick' });
    expect(results.ingest?.receiver.count).toBe(options.ingest.events * options.ingest.rounds);
    expect(results.charges?.map((l) => l.concurrency)).toEqual(options.charge.concurrencies);
    expect(results.history?.perCharge).toBeGreaterThan(results.history?.floor ?? Infinity);
    expect(results.idle?.points.map((p) => p.sleeping)).toEqual([
      options.idle.small,
      options.idle.large,
    ]);
    expect(results.timeTravel?.attempts).toBeGreaterThan(1);
    expect(results.ingest?.roundRatios).toHaveLength(options.ingest.rounds);
    for (const level of results.charges ?? [])
      expect(level.roundRatios).toHaveLength(options.charge.rounds);

    // Stripe requests per create: counted from stripe-node's events, the same at 0 and 10,000.
    const requests = results.requests!;
    expect(requests.empty.intentsOnCustomer).toBe(0);
    expect(requests.busy.intentsOnCustomer).toBe(10_000);
    expect(requests.empty.perCreate['GET /v1/payment_intents/search']).toBe(1);
    expect(requests.busy.perCreate).toEqual(requests.empty.perCreate);
    expect(requests.busy.perCreateTotal).toBe(requests.empty.perCreateTotal);
    expect(requests.equal).toBe(true);
    for (const point of [requests.empty, requests.busy])
      expect(point, 'every request attributed and answered').toMatchObject({
        unanswered: 0,
        unattributed: 0,
      });

    const ids = results.rows.map((r) => r.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'ingest.throughput',
        'charge.c1.throughput',
        'charge.c1.p50',
        'history.charge',
        'history.dunning',
        'idle.rss',
        'travel.campaign',
        'requests.create',
      ]),
    );
    for (const row of results.rows) {
      expect(Number.isFinite(row.ours), row.id).toBe(true);
      if (row.ratio !== null) expect(Number.isFinite(row.ratio), row.id).toBe(true);
      expect(row.met === null || typeof row.met === 'boolean', row.id).toBe(true);
    }

    const markdown = renderMarkdown(results);
    expect(markdown).toContain('| figure | ours | baseline | ratio | goal | met? |');
    expect(markdown.split('\n').filter((l) => l.startsWith('| ')).length).toBe(
      results.rows.length + 1,
    );
  }, 300_000);

  it('reads sizes from flags and the environment, and rejects unknown ones', () => {
    const options = parseOptions(['--idle', '50,500', '--charge-concurrency=2,6'], {
      BENCH_ROUNDS: '3',
    });
    expect(options.idle).toMatchObject({ small: 50, large: 500 });
    expect(options.charge.concurrencies).toEqual([2, 6]);
    expect(options.charge.rounds).toBe(3);
    expect(parseOptions(['--quick', '--requests-intents', '200'], {}).requests.intents).toBe(200);
    expect(() => parseOptions(['--idle', '500,50'], {})).toThrow(/small then large/);
    expect(() => parseOptions(['--warp', '9'], {})).toThrow(/unknown option --warp/);
  });
});
