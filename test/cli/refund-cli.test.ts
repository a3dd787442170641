// The refund and dispute commands against the shared dev server, one worker on the real
// activities and a Stripe simulator (run in-process through runCli, the same code as the bin).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands } from '../../src/cli/commands.js';
import { runCli } from '../../src/cli/program.js';
import { startAfterChargeStack, type AfterChargeStack } from '../helpers/after-charge-stack.js';

let stack: AfterChargeStack;
beforeAll(async () => {
  stack = await startAfterChargeStack('refund-cli');
});
afterAll(async () => {
  await stack?.close();
});

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(commands, args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      DUNNING_POLICY: '',
    },
    interrupted: () => new Promise(() => undefined),
  });
  return { code, stdout, stderr };
}

describe('durable-billing refund', () => {
  it('refunds once per refund id, and exits 1 with what remains when asked for more', async () => {
    const { orderId } = await stack.charged({ amount: 1000 });
    const first = await cli([
      'refund',
      orderId,
      '--refund-id',
      'a',
      '--amount',
      '800',
      '--reason',
      'duplicate',
      '--json',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const made = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(made).toMatchObject({ outcome: 'succeeded', amount: 800, remaining: 200 });

    // The same refund id again (even asking more): the first result, exit 0, no second refund.
    const again = await cli([
      'refund',
      orderId,
      '--refund-id',
      'a',
      '--amount',
      '900',
      '--reason',
      'duplicate',
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(made);

    const refused = await cli([
      'refund',
      orderId,
      '--refund-id',
      'b',
      '--amount',
      '300',
      '--reason',
      'requested_by_customer',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /refund refused: order .*: asked to refund 300 usd, but 200 usd of the 1000 captured remains/,
    );
    expect(refused.stdout).toMatch(/remaining\s+200 usd \(minor units\)/);

    const rest = await cli([
      'refund',
      orderId,
      '--refund-id',
      'c',
      '--reason',
      'requested_by_customer',
      '--wait',
      '--json',
    ]);
    expect(rest.code).toBe(0);
    expect(JSON.parse(rest.stdout)).toMatchObject({
      outcome: 'succeeded',
      amount: 200,
      remaining: 0,
    });
    const intent = await stack.stripe.paymentIntents.retrieve(made.paymentIntentId as string);
    const charge = await stack.stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge.amount_refunded).toBe(1000);
  });

  it('refuses a bad reason or amount before anything starts (exit 2)', async () => {
    const reason = await cli(['refund', 'ord-x', '--refund-id', 'a', '--reason', 'because']);
    expect(reason.code).toBe(2);
    expect(reason.stderr).toMatch(
      /--reason must be one of duplicate, fraudulent, requested_by_customer/,
    );
    const amount = await cli([
      'refund',
      'ord-x',
      '--refund-id',
      'a',
      '--amount',
      '1.50',
      '--reason',
      'duplicate',
    ]);
    expect(amount.code).toBe(2);
    expect(amount.stderr).toMatch(/--amount must be a whole number of minor units/);
  });
});
