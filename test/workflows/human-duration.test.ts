// Timer summaries say waits as a person would.
import { describe, expect, it } from 'vitest';
import { humanDuration } from '../../src/workflows/charge-customer.js';

describe('humanDuration', () => {
  it.each([
    [2 * 86_400_000, '2 days'],
    [86_400_000 + 40 * 60_000, '1 day'],
    [6 * 3_600_000, '6 hours'],
    [0.001 * 86_400_000, '1 minute'],
    [45_000, '45 seconds'],
    [400, '0 seconds'],
  ])('%d ms reads "%s"', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
