// Figures in the docs that are rendered from results files rather than typed by hand: the
// bench's ratios round by round against their goals (bench/results.json), the recorded
// histories' sizes (test/replay/histories/*.json) and the campaign picture's history
// (docs/campaign-history.json). Plain data in, markdown out; scripts/docs.ts reads the files.
import { withBlock } from './blocks.js';

/** Three significant digits, as the bench's table shows them. */
function round(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** The part of bench/results.json the spread table reads. */
export interface RoundsInput {
  ingest?: { ratio: number; roundRatios: readonly number[] };
  charges?: readonly {
    concurrency: number;
    throughputRatio: number;
    roundRatios: readonly number[];
  }[];
  rows: readonly { id: string; figure: string; goal: string }[];
}

/** A goal of the form "≥ 0.80×" as its number; undefined for other goals. */
export function ratioGoal(goal: string): number | undefined {
  const match = /^≥\s*([\d.]+)×$/.exec(goal.trim());
  return match ? Number(match[1]) : undefined;
}

/**
 * Each ratio the bench measures in rounds (webhook ingest, card charges per level): the whole
 * run's ratio, each round's, their spread and where the goal sits: below every round, above every
 * round, or within the spread (met in some rounds only, so one run's verdict is not the figure).
 */
export function roundSpreadTable(results: RoundsInput): string {
  const measured: { id: string; ratio: number; rounds: readonly number[] }[] = [
    ...(results.ingest
      ? [
          {
            id: 'ingest.throughput',
            ratio: results.ingest.ratio,
            rounds: results.ingest.roundRatios,
          },
        ]
      : []),
    ...(results.charges ?? []).map((level) => ({
      id: `charge.c${level.concurrency}.throughput`,
      ratio: level.throughputRatio,
      rounds: level.roundRatios,
    })),
  ];
  const lines = [
    '| figure | whole run | each round | spread | goal | where the goal sits |',
    '| --- | ---: | --- | --- | --- | --- |',
  ];
  for (const { id, ratio, rounds } of measured) {
    const row = results.rows.find((r) => r.id === id);
    if (!row || rounds.length === 0) continue;
    const low = Math.min(...rounds);
    const high = Math.max(...rounds);
    const goal = ratioGoal(row.goal);
    const met = goal === undefined ? 0 : rounds.filter((r) => r >= goal).length;
    const verdict =
      goal === undefined
        ? '—'
        : met === rounds.length
          ? `below the spread: met in every round (${met} of ${rounds.length})`
          : met === 0
            ? `above the spread: missed in every round (0 of ${rounds.length})`
            : `**within the spread**: met in ${met} of ${rounds.length} rounds`;
    lines.push(
      `| ${row.figure} | ${round(ratio)}× | ${rounds.map((r) => `${round(r)}×`).join(', ')} | ${round(low)}×–${round(high)}× | ${row.goal || '—'} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}

/** One recorded history: its file, what the scenario did, and the history's events. */
export interface RecordedHistory {
  file: string;
  paymentMethodId: string;
  fault?: string;
  retryDelaysDays?: readonly number[];
  eventTypes: readonly string[];
}

/** The sizes of the replay test's recorded histories, one row per file. */
export function recordedHistoriesTable(histories: readonly RecordedHistory[]): string {
  const lines = [
    '| history | payment method | fault | scheduled retries | recorded | events | activities |',
    '| --- | --- | --- | ---: | --- | ---: | ---: |',
  ];
  for (const h of histories) {
    const patched = h.eventTypes.includes('EVENT_TYPE_MARKER_RECORDED');
    const activities = h.eventTypes.filter((t) => t === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    lines.push(
      `| \`${h.file}\` | \`${h.paymentMethodId}\` | ${h.fault ? `\`${h.fault}\` on the confirm` : '—'} | ${h.retryDelaysDays?.length ?? '—'} | ${patched ? 'with the exactly-once patch' : 'before the patch'} | ${h.eventTypes.length} | ${activities.length} |`,
    );
  }
  return lines.join('\n');
}

/** The part of a recorded history the campaign line reads (protobufjs JSON). */
export interface CampaignHistoryInput {
  events: readonly {
    eventType: string;
    eventTime?: { seconds: string | number; nanos?: number };
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  }[];
}

/** One line on the campaign picture's history: its size, attempts and span in workflow time. */
export function campaignHistoryLine(history: CampaignHistoryInput, file: string): string {
  const seconds = (e: CampaignHistoryInput['events'][number]) =>
    Number(e.eventTime?.seconds ?? 0) + (e.eventTime?.nanos ?? 0) / 1e9;
  const first = history.events[0];
  const last = history.events.at(-1);
  const days = first && last ? (seconds(last) - seconds(first)) / 86_400 : 0;
  const confirms = history.events.filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'confirmPaymentIntent',
  ).length;
  return `The history behind the picture (\`${file}\`): ${history.events.length} events, ${confirms} confirm attempts, ${round(days)} days from start to end in workflow time.`;
}

/** The block of docs/performance.md that holds the bench's table (bench/report.ts renders it). */
export const PERFORMANCE_BLOCK = 'performance';

/** The block of docs/performance.md with each round's ratio against its goal. */
export const ROUNDS_BLOCK = 'performance-rounds';

/**
 * docs/performance.md with the bench's table (`benchMarkdown`, bench/report.ts's rendering of
 * `results`) and the rounds table rendered from the same results.
 */
export function withPerformanceFigures(
  page: string,
  benchMarkdown: string,
  results: RoundsInput,
  where = 'docs/performance.md',
): string {
  const withTable = withBlock(page, PERFORMANCE_BLOCK, benchMarkdown, where);
  return withBlock(withTable, ROUNDS_BLOCK, roundSpreadTable(results), where);
}
