// Disputes end to end on the real servers (issue 14): the simulator opens a dispute (the bank's
// side), its signed charge.dispute.created webhook reaches the real receiver over HTTP, which
// starts dispute:<id>; the worker runs the real activities. The deadline's reminders run on the
// time-skipping server in seconds; evidence and the CLI run on the dev server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands } from '../../src/cli/commands.js';
import { runCli } from '../../src/cli/program.js';
import { disputesDueQuery } from '../../src/client/index.js';
import { disputeWorkflowId } from '../../src/shared/after-charge-ids.js';
import { BillingOrderId, BillingStatus } from '../../src/shared/search-attributes.js';
import { startAfterChargeStack, type AfterChargeStack } from '../helpers/after-charge-stack.js';
import { createTimeSkippingEnv, inSkippedTime } from '../helpers/temporal.js';

const DAY_MS = 24 * 3600 * 1000;

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string) {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a dispute on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let stack: AfterChargeStack;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    stack = await startAfterChargeStack('disputes-ts', {
      temporal: { kind: 'time-skipping', env },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it('goes from its webhook to lost, with both reminders before the deadline, in seconds', async () => {
    const { orderId, paymentIntentId } = await inSkippedTime(
      env,
      'the charge',
      stack.charged({ amount: 4200 }),
    );
    // Due a week from now on the workflow's clock: the time-skipping server's, which the earlier
    // waits moved ahead of the simulator's (it skips through the timers of idle workflows).
    const opened = stack.sim.disputes.open({
      payment_intent: paymentIntentId,
      evidence_due_by: Math.floor(((await env.currentTimeMs()) + 7 * DAY_MS) / 1000),
    });
    const disputeId = opened.id;
    const dueBy = Number((opened.evidence_details as { due_by: number }).due_by) * 1000;
    const kinds = () => stack.alerts.alerts.map((a) => a.kind);

    // charge.dispute.created → receiver → signal-with-start → operators alerted at once.
    await eventually(
      () => (kinds().includes('dispute_opened') ? true : undefined),
      'the opening alert',
    );
    expect(stack.alerts.alerts[0]).toMatchObject({
      kind: 'dispute_opened',
      disputeId,
      orderId,
      amount: 4200,
      currency: 'usd',
      status: 'needs_response',
      dueBy: new Date(dueBy).toISOString(),
    });
    const handle = stack.billing.getDispute(disputeId);
    expect(handle.workflow.workflowId).toBe(disputeWorkflowId(disputeId));

    // Days pass in seconds: the 3-day reminder, then the 1-day one.
    const untilFirst = dueBy - 3 * DAY_MS - (await env.currentTimeMs()) + 3600_000;
    await inSkippedTime(env, 'the sleep to the 3-day reminder', env.sleep(untilFirst));
    await eventually(() => (kinds().length >= 2 ? true : undefined), 'the 3-day reminder');
    await inSkippedTime(env, 'the sleep to the 1-day reminder', env.sleep(2 * DAY_MS));
    await eventually(() => (kinds().length >= 3 ? true : undefined), 'the 1-day reminder');
    expect(kinds()).toEqual(['dispute_opened', 'dispute_evidence_due', 'dispute_evidence_due']);
    const [, three, one] = stack.alerts.alerts;
    expect(three?.message).toMatch(/evidence due .* \(in (2|3) days\)/);
    expect(one?.message).toMatch(/evidence due .* \(in \d+ hours?\)/);

    // The bank decides: charge.dispute.closed wakes the workflow, which reads `lost` from Stripe.
    stack.sim.disputes.close(disputeId, 'lost');
    const result = await inSkippedTime(env, 'the dispute result', handle.result());
    expect(result).toMatchObject({ outcome: 'lost', disputeId, orderId, amount: 4200 });
    expect(kinds()).toEqual([
      'dispute_opened',
      'dispute_evidence_due',
      'dispute_evidence_due',
      'dispute_closed',
    ]);
    // Its search attributes say what operators filter on.
    const described = await handle.workflow.describe();
    expect(described.typedSearchAttributes.get(BillingStatus)).toBe('lost');
    expect(described.typedSearchAttributes.get(BillingOrderId)).toBe(orderId);
  });
});

describe('a dispute on the dev server', () => {
  let stack: AfterChargeStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startAfterChargeStack('disputes-dev', { simulator: { processingDelayMs: 500 } });
    dir = mkdtempSync(join(tmpdir(), 'durable-billing-disputes-'));
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(commands, [...args, '--json'], {
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
    return { code, json: JSON.parse(stdout) as Record<string, unknown>, stderr };
  }

  it('is listed as due, takes evidence through the CLI, and ends won', async () => {
    const { orderId, paymentIntentId } = await stack.charged();
    const opened = stack.sim.disputes.open({
      payment_intent: paymentIntentId,
      evidence_due_in_days: 2,
    });
    const disputeId = opened.id;
    const handle = stack.billing.getDispute(disputeId);
    await eventually(async () => {
      const { disputes } = await stack.billing.listDisputesDue(3);
      return disputes.some((d) => d.disputeId === disputeId) ? true : undefined;
    }, 'the dispute in visibility');

    const listed = await cli(['disputes', 'list', '--due-within', '3']);
    expect(listed.code).toBe(0);
    expect(listed.json.query).toMatch(
      /^WorkflowType = 'handleDispute' AND ExecutionStatus = 'Running' AND BillingStatus IN/,
    );
    expect(listed.json.disputes).toContainEqual(
      expect.objectContaining({ disputeId, orderId, amount: 2000, status: 'needs_response' }),
    );
    // Not due within one day (due at the end of the day after tomorrow).
    const { disputes: soon } = await stack.billing.listDisputesDue(1);
    expect(soon.map((d) => d.disputeId)).not.toContain(disputeId);

    const file = join(dir, 'evidence.json');
    writeFileSync(
      file,
      JSON.stringify({ uncategorized_text: 'winning_evidence', product_description: 'a book' }),
    );
    const sent = await cli(['dispute', 'submit-evidence', disputeId, '--file', file]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.json).toMatchObject({ accepted: true, status: 'under_review' });
    // Sending again once under review: the workflow says why not, and Stripe is not asked.
    const again = await cli(['dispute', 'submit-evidence', disputeId, '--file', file]);
    expect(again.code).toBe(1);
    expect(again.json.reason).toMatch(
      /is under_review; Stripe takes evidence only while it needs a response/,
    );
    const evidenceRequests = stack.sim.requests({ method: 'POST', path: '/v1/disputes/:id' });
    expect(evidenceRequests.map((r) => r.idempotencyKey)).toEqual([
      expect.stringMatching(new RegExp(`^db/${disputeWorkflowId(disputeId)}/[^/]+/evidence/0$`)),
    ]);

    // Stripe's test evidence wins; charge.dispute.closed ends the workflow.
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'won', disputeId, orderId });
    expect(stack.alerts.alerts.filter((a) => a.disputeId === disputeId).map((a) => a.kind)).toEqual(
      ['dispute_opened', 'dispute_closed'],
    );
  });

  it('the due filter is a plain visibility query', () => {
    expect(disputesDueQuery(new Date('2026-12-01T00:00:00Z'), 3)).toBe(
      "WorkflowType = 'handleDispute' AND ExecutionStatus = 'Running' AND BillingStatus IN ('needs_response', 'warning_needs_response') AND BillingDisputeDueBy <= '2026-12-04T00:00:00.000Z'",
    );
  });
});
