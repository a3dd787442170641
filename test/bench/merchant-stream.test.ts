// The merchant-stream figure at a small scale on a dev server of its own: a stream that is mostly
// types no workflow handles, at 100 events/s, is acknowledged without a single 503.
import { describe, expect, it } from 'vitest';
import { merchantEvent, runMerchantStreamOnDevServer } from '../../bench/merchant-stream.js';
import { isHandledEventType } from '../../src/shared/stripe-events.js';

describe('merchant stream', () => {
  it('mixes in the asked share of types no workflow handles', () => {
    const events = Array.from(
      { length: 1000 },
      (_, i) => merchantEvent(i, 'mix', 0.7) as { type: string },
    );
    expect(events.filter((e) => !isHandledEventType(e.type))).toHaveLength(700);
  });

  it('600 signed events at 100/s, 70 % of types nobody handles: every answer 200, none 503', async () => {
    const result = await runMerchantStreamOnDevServer({
      events: 600,
      rate: 100,
      unhandledShare: 0.7,
    });
    expect(result.answers).toEqual({ 200: 600 });
    expect(result.answers503).toBe(0);
  }, 120_000);
});
