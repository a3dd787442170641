// The campaign picture is drawn from a real history (docs/campaign-history.json, written by
// `npm run docs:timeline`): its marks must tell the campaign's story.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { timelineMarks, timelineSvg } from '../../src/docs/timeline.js';
import { historyFromJSON } from '../replay/history-json.js';

const history = historyFromJSON(
  readFileSync(new URL('../../docs/campaign-history.json', import.meta.url), 'utf8'),
);

describe('the campaign timeline', () => {
  const marks = timelineMarks(history);

  it('shows 8 declined attempts over 14 days, 7 scheduled waits, and the notifications in order', () => {
    const attempts = marks.filter((m) => m.lane === 'attempt');
    expect(attempts.map((m) => m.ok)).toEqual(Array.from({ length: 8 }, () => false));
    expect(attempts.at(-1)!.atMs / 86_400_000).toBeGreaterThanOrEqual(14);
    expect(
      marks.filter((m) => m.lane === 'wait' && /dunning: attempt \d in/.test(m.label)),
    ).toHaveLength(7);
    expect(marks.filter((m) => m.lane === 'notify').map((m) => m.label)).toEqual([
      'payment_failed',
      'final_warning',
      'gave_up',
    ]);
    expect(marks.filter((m) => m.lane === 'end').map((m) => m.label)).toEqual([
      'intent canceled',
      'final action',
      'workflow completed',
    ]);
  });

  it('renders an SVG with a day axis and one circle per attempt', () => {
    const svg = timelineSvg(marks, 'test');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(8);
    expect(svg).toContain('>day 14<');
  });
});
