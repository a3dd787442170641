// The renderers of the docs' figures: where a goal sits against the rounds' spread, and the
// recorded histories' table, from made-up results.
import { describe, expect, it } from 'vitest';
import { blockNames, comparable, readBlock, withBlock } from '../../src/docs/blocks.js';
import { ratioGoal, recordedHistoriesTable, roundSpreadTable } from '../../src/docs/figures.js';

const rows = (goal: string) => [{ id: 'charge.c32.throughput', figure: 'Card charges/s', goal }];
const level = (roundRatios: number[]) => ({
  charges: [{ concurrency: 32, throughputRatio: 0.8, roundRatios }],
});

describe('the rounds table', () => {
  it.each([
    [[0.9, 0.95], 'below the spread: met in every round (2 of 2)'],
    [[0.6, 0.7], 'above the spread: missed in every round (0 of 2)'],
    [[0.75, 0.85, 0.81], '**within the spread**: met in 2 of 3 rounds'],
  ])('rounds %j against a 0.80 goal read "%s"', (rounds, verdict) => {
    const table = roundSpreadTable({ ...level(rounds), rows: rows('≥ 0.80×') });
    expect(table).toContain(verdict);
    expect(table).toContain(`${Math.min(...rounds)}×–${Math.max(...rounds)}×`);
  });

  it('shows a figure without a ratio goal without a verdict', () => {
    expect(roundSpreadTable({ ...level([1]), rows: rows('') })).toContain('| — | — |');
    expect(ratioGoal('≤ 2×')).toBeUndefined();
    expect(ratioGoal('≥ 0.50×')).toBe(0.5);
  });
});

describe('the recorded histories table', () => {
  it('counts events and scheduled activities and says whether the patch marker is there', () => {
    const table = recordedHistoriesTable([
      {
        file: 'v2-success.json',
        paymentMethodId: 'pm_card_visa',
        eventTypes: [
          'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
          'EVENT_TYPE_MARKER_RECORDED',
          'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
        ],
      },
    ]);
    expect(comparable(table).at(-1)).toBe(
      '|`v2-success.json`|`pm_card_visa`|—|—|with the exactly-once patch|3|1|',
    );
  });
});

describe('generated blocks', () => {
  it('are replaced between their markers and nowhere else', () => {
    const page = 'intro\n\n<!-- a:start -->\nold\n<!-- a:end -->\n\noutro\n';
    const next = withBlock(page, 'a', 'new', 'page');
    expect(readBlock(next, 'a', 'page')).toBe('new');
    expect(next.startsWith('intro\n\n')).toBe(true);
    expect(next.endsWith('\n\noutro\n')).toBe(true);
    expect(blockNames(next)).toEqual(['a']);
    expect(() => withBlock('no markers', 'a', 'x', 'page.md')).toThrow(/page.md lacks/);
  });
});
