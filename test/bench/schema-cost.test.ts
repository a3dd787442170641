// The schema-cost profile (bench/schema-cost.ts) compares src/shared/schemas.ts with a valibot
// port of it. The comparison is fair only if the port validates the same way: on each input of
// the table, both accept or both reject, and (where the port keeps validate.ts's reporting)
// with the same issues. The profile itself is never run here: its committed results are
// checked against their rendering (docs/schema-cost.md) and the decision rule.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import {
  decide,
  formatAs,
  renderMarkdown,
  SCHEMA_COST_VERSION,
  type SchemaCostResults,
} from '../../bench/schema-cost.js';
import * as bare from '../../bench/schema-cost/bare.js';
import * as onValibot from '../../bench/schema-cost/valibot.js';
import * as onValidate from '../../bench/schema-cost/validate.js';
import * as port from '../../bench/schema-cost/valibot-schemas.js';
import {
  cancelSchema,
  chargeInputSchema,
  describeIssues,
  retryNowSchema,
  stripeEventSignalSchema,
} from '../../src/shared/schemas.js';
import type { Schema } from '../../src/shared/validate.js';

const valid = {
  orderId: 'order-1',
  customerId: 'cus_123',
  amount: 1999,
  currency: 'usd',
};
const manyKeys = Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`k${i}`, 'v']));

interface Case {
  name: string;
  input: unknown;
  ok: boolean;
  /** The two report different issues (both reject): see the port's header. */
  issuesDiffer?: true;
}

const chargeCases: Case[] = [
  { name: 'a minimal charge', input: valid, ok: true },
  {
    name: 'every optional field',
    input: {
      ...valid,
      paymentMethodId: 'pm_card_visa',
      description: 'Invoice 7',
      metadata: { plan: 'pro' },
      dunning: {
        retryDelaysDays: [0.001, 1],
        maxAttemptsPer30Days: 5,
        jitterMinutes: 0,
        hardDeclineCodes: ['lost_card'],
        actionRequiredDeclineCodes: [],
        notify: { paymentFailed: 'every', recovered: false },
        finalAction: 'cancel_subscription',
        continueAsNewAfterEvents: 500,
      },
    },
    ok: true,
  },
  { name: 'not an object', input: 'order-1', ok: false },
  { name: 'null', input: null, ok: false },
  { name: 'an array', input: [valid], ok: false },
  { name: 'nothing', input: undefined, ok: false },
  { name: 'an empty object', input: {}, ok: false },
  { name: 'no orderId', input: { ...valid, orderId: undefined }, ok: false },
  { name: 'an empty orderId', input: { ...valid, orderId: '' }, ok: false },
  { name: 'an orderId with a space', input: { ...valid, orderId: 'order 1' }, ok: false },
  { name: 'a 201-character orderId', input: { ...valid, orderId: 'x'.repeat(201) }, ok: false },
  { name: 'a numeric orderId', input: { ...valid, orderId: 7 }, ok: false },
  { name: 'a customer id of another kind', input: { ...valid, customerId: 'pm_1' }, ok: false },
  { name: 'amount as a string', input: { ...valid, amount: '19.99' }, ok: false },
  { name: 'a fractional amount', input: { ...valid, amount: 19.99 }, ok: false },
  { name: 'a zero amount', input: { ...valid, amount: 0 }, ok: false },
  { name: 'a negative amount', input: { ...valid, amount: -5 }, ok: false },
  { name: 'an amount over Stripe’s limit', input: { ...valid, amount: 100_000_000 }, ok: false },
  { name: 'a NaN amount', input: { ...valid, amount: NaN }, ok: false },
  { name: 'an infinite amount', input: { ...valid, amount: Infinity }, ok: false },
  { name: 'no amount', input: { ...valid, amount: undefined }, ok: false },
  { name: 'an upper-case currency', input: { ...valid, currency: 'USD' }, ok: false },
  { name: 'a four-letter currency', input: { ...valid, currency: 'usdd' }, ok: false },
  { name: 'a bad payment method id', input: { ...valid, paymentMethodId: 'card_1' }, ok: false },
  { name: 'a long description', input: { ...valid, description: 'x'.repeat(1001) }, ok: false },
  { name: 'one extra field', input: { ...valid, amountCents: 1999 }, ok: false },
  {
    name: 'two extra fields',
    input: { ...valid, a: 1, b: 2 },
    ok: false,
    issuesDiffer: true,
  },
  { name: 'metadata as an array', input: { ...valid, metadata: ['x'] }, ok: false },
  { name: 'a numeric metadata value', input: { ...valid, metadata: { n: 1 } }, ok: false },
  {
    name: 'a long metadata key',
    input: { ...valid, metadata: { ['k'.repeat(41)]: 'v' } },
    ok: false,
  },
  {
    name: 'a long metadata value',
    input: { ...valid, metadata: { k: 'v'.repeat(501) } },
    ok: false,
  },
  { name: '41 metadata keys', input: { ...valid, metadata: manyKeys }, ok: false },
  { name: 'reserved metadata', input: { ...valid, metadata: { order_id: 'x' } }, ok: false },
  {
    name: '41 metadata keys, one reserved',
    input: { ...valid, metadata: { ...manyKeys, workflow_id: 'x' } },
    ok: false,
  },
  { name: 'an empty dunning override', input: { ...valid, dunning: {} }, ok: true },
  { name: 'dunning as an array', input: { ...valid, dunning: [] }, ok: false },
  { name: 'an unknown dunning field', input: { ...valid, dunning: { retries: 3 } }, ok: false },
  {
    name: 'a negative retry delay',
    input: { ...valid, dunning: { retryDelaysDays: [1, -1] } },
    ok: false,
  },
  {
    name: 'a retry delay over 60 days',
    input: { ...valid, dunning: { retryDelaysDays: [61] } },
    ok: false,
  },
  {
    name: '31 retries',
    input: { ...valid, dunning: { retryDelaysDays: Array.from({ length: 31 }, () => 1) } },
    ok: false,
  },
  {
    name: '31 retries, one bad',
    input: { ...valid, dunning: { retryDelaysDays: [-1, ...Array.from({ length: 30 }, () => 1)] } },
    ok: false,
    issuesDiffer: true,
  },
  {
    name: '15 attempts in 30 days',
    input: { ...valid, dunning: { maxAttemptsPer30Days: 15 } },
    ok: false,
  },
  { name: 'a day of jitter', input: { ...valid, dunning: { jitterMinutes: 1440 } }, ok: true },
  { name: 'jitter over a day', input: { ...valid, dunning: { jitterMinutes: 1441 } }, ok: false },
  {
    name: 'an empty decline code',
    input: { ...valid, dunning: { hardDeclineCodes: [''] } },
    ok: false,
  },
  {
    name: 'an unknown notify value',
    input: { ...valid, dunning: { notify: { paymentFailed: 'always' } } },
    ok: false,
  },
  {
    name: 'a notify flag as a string',
    input: { ...valid, dunning: { notify: { gaveUp: 'yes' } } },
    ok: false,
  },
  {
    name: 'an unknown notify field',
    input: { ...valid, dunning: { notify: { sms: true } } },
    ok: false,
  },
  {
    name: 'continue-as-new too early',
    input: { ...valid, dunning: { continueAsNewAfterEvents: 10 } },
    ok: false,
  },
  {
    name: 'several problems at once',
    input: { orderId: '', customerId: 'cus_1', amount: 1.5, currency: 'EUR', extra: true },
    ok: false,
  },
];

const event = { id: 'evt_1', type: 'payment_intent.succeeded', created: 1, objectId: 'pi_1' };
const eventCases: Case[] = [
  { name: 'an event', input: event, ok: true },
  { name: 'an event with an account', input: { ...event, account: 'acct_1' }, ok: true },
  { name: 'an event with extra fields (dropped)', input: { ...event, livemode: true }, ok: true },
  { name: 'no id', input: { ...event, id: undefined }, ok: false },
  { name: 'an empty type', input: { ...event, type: '' }, ok: false },
  { name: 'a negative created', input: { ...event, created: -1 }, ok: false },
  { name: 'a fractional created', input: { ...event, created: 1.5 }, ok: false },
  { name: 'an array', input: [], ok: false },
  { name: 'nothing', input: undefined, ok: false },
];

const retryCases: Case[] = [
  { name: 'no new method', input: {}, ok: true },
  { name: 'a new method', input: { paymentMethodId: 'pm_2' }, ok: true },
  { name: 'a bad method', input: { paymentMethodId: 'cus_2' }, ok: false },
  { name: 'an extra field', input: { force: true }, ok: false },
  { name: 'an array', input: [], ok: false },
  { name: 'nothing', input: undefined, ok: false },
];

const cancelCases: Case[] = [
  { name: 'a reason', input: { reason: 'customer left' }, ok: true },
  { name: 'no reason', input: {}, ok: false },
  { name: 'an empty reason', input: { reason: '' }, ok: false },
  { name: 'a long reason', input: { reason: 'x'.repeat(501) }, ok: false },
  { name: 'an extra field', input: { reason: 'x', by: 'ops' }, ok: false },
];

const tables: [string, Schema<unknown, unknown>, v.GenericSchema, Case[]][] = [
  ['chargeInputSchema', chargeInputSchema, port.chargeInputSchema, chargeCases],
  ['stripeEventSignalSchema', stripeEventSignalSchema, port.stripeEventSignalSchema, eventCases],
  ['retryNowSchema', retryNowSchema, port.retryNowSchema, retryCases],
  ['cancelSchema', cancelSchema, port.cancelSchema, cancelCases],
];

describe('the valibot port validates as src/shared/schemas.ts does', () => {
  for (const [name, ours, theirs, cases] of tables) {
    describe(name, () => {
      it.each(cases)('$name', ({ input, ok, issuesDiffer }) => {
        const expected = ours.safeParse(input);
        const actual = v.safeParse(theirs, input);
        expect(expected.success).toBe(ok);
        expect(actual.success).toBe(ok);
        if (ok) {
          expect(actual.output).toEqual(expected.data);
        } else if (!issuesDiffer) {
          expect(port.describeIssues(actual.issues ?? [])).toBe(describeIssues(expected.error!));
        }
      });
    });
  }
});

describe('the schema-cost results', () => {
  const path = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
  const results = JSON.parse(
    readFileSync(path('bench/schema-cost.json'), 'utf8'),
  ) as SchemaCostResults;

  it('come from the three entries, each exporting the same workflow', () => {
    for (const entry of [bare, onValidate, onValibot])
      expect(typeof entry.schemaCost).toBe('function');
    expect(results.schemaVersion).toBe(SCHEMA_COST_VERSION);
    expect(results.rounds).toHaveLength(results.settings.rounds);
  });

  it('carry the verdict of the decision rule', () => {
    expect(results.decision).toEqual(decide(results.summary));
  });

  it('are what docs/schema-cost.md shows (the page is generated, never edited)', async () => {
    const doc = path('docs/schema-cost.md');
    expect(readFileSync(doc, 'utf8')).toBe(await formatAs(renderMarkdown(results), doc));
  });
});
