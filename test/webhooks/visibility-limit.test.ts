// The receiver on a dev server of its own whose visibility rate limit is 1 query/s (the cluster
// default is 10/s per frontend): events that need a lookup arrive faster than that. The SDK
// retries a refused query after a second, so before issue 15 each refused lookup waited out the
// request's deadline and the receiver answered 503. Now a lookup gets a bounded share of the
// deadline, and an event whose lookup was refused or slow is kept as unmatched (durable, 200).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalTemporal } from '../../src/embedded/dev-server.js';
import { devServerExecutable } from '../../src/embedded/servers.js';
import { billingSearchAttributes } from '../../src/shared/search-attributes.js';
import { createStripeWebhookHandler } from '../../src/webhooks/handler.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

const SECRET = 'whsec_visibility_limit';
const EVENTS = 12;
const DEADLINE_MS = 5000;
let dir: string;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'durable-billing-visibility-limit-'));
  env = await createLocalTemporal({
    server: {
      executable: devServerExecutable(),
      ip: '127.0.0.1',
      dbFilename: join(dir, 'temporal.db'),
      searchAttributes: [...billingSearchAttributes],
      log: { format: 'pretty', level: 'error' },
      extraArgs: [
        '--dynamic-config-value',
        'frontend.namespaceRPS.visibility=1',
        '--dynamic-config-value',
        'frontend.namespaceBurstRatio.visibility=1',
      ],
    },
  });
}, 60_000);

afterAll(async () => {
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('receiver under the visibility rate limit', () => {
  it(`${EVENTS} concurrent events that need a lookup at 1 query/s: every one 200, the refused ones kept as unmatched`, async () => {
    const taskQueue = uniqueTaskQueue('visibility-limit');
    const handler = createStripeWebhookHandler({
      client: env.client,
      secrets: [SECRET],
      taskQueue,
      unmatchedWorkflowId: `stripe-events:unmatched:${taskQueue}`,
      deadlineMs: DEADLINE_MS,
    });
    const answers = await Promise.all(
      Array.from({ length: EVENTS }, (_, i) => {
        const rawBody = JSON.stringify({
          id: `evt_vislimit_${process.pid}_${i}`,
          object: 'event',
          type: 'payment_method.attached',
          created: Math.floor(Date.now() / 1000),
          data: {
            object: { id: `pm_vislimit_${i}`, object: 'payment_method', customer: `cus_vl_${i}` },
          },
        });
        const signature = Stripe.webhooks.generateTestHeaderString({
          payload: rawBody,
          secret: SECRET,
        });
        return handler({ rawBody, headers: { 'stripe-signature': signature } });
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const reasons = answers.map((a) => (JSON.parse(a.body) as { reason?: string }).reason);
    expect(reasons.every((r) => r !== undefined)).toBe(true);
    // The limiter refused most of them; those were kept at once instead of waiting for retries.
    expect(
      reasons.filter(
        (r) => r === 'the visibility lookup was rate-limited or too slow; re-routed later',
      ).length,
    ).toBeGreaterThan(EVENTS / 2);
    await env.client.workflow
      .getHandle(`stripe-events:unmatched:${taskQueue}`)
      .terminate('test over');
  }, 60_000);
});
