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

/** A figure's run as bench/results.json records it (`sections`). */
interface SectionRunInput {
  measuredAt: string;
  durationSeconds: number;
  loadAverage: { start: number[]; end: number[] };
}

function measured(key: string, run: SectionRunInput | undefined, command: string): string {
  if (!run) return `Not measured yet: \`${command}\` writes it.`;
  return `Measured ${run.measuredAt.slice(0, 10)} with \`${command}\` (${Math.round(run.durationSeconds)} s, 1-min load average ${round(run.loadAverage.start[0] ?? 0)} at the start and ${round(run.loadAverage.end[0] ?? 0)} at the end; bench/results.json, section \`${key}\`).`;
}

/** The part of bench/results.json the refunds page reads. */
export interface RefundFiguresInput {
  sections: Record<string, SectionRunInput>;
  refunds?: {
    sizes: { refunds: number };
    chargeP50Ms: number;
    chargeP99Ms: number;
    refundP50Ms: number;
    refundP99Ms: number;
    refundHistoryEvents: number;
    chargeHistoryEvents: number;
    lockHistoryEvents: number;
  };
}

/** The block of docs/refunds-and-disputes.md with the refund figures. */
export const REFUND_FIGURES_BLOCK = 'refund-figures';

/** docs/refunds-and-disputes.md's figures: a refund against a charge of the same run. */
export function refundFiguresTable(results: RefundFiguresInput): string {
  const r = results.refunds;
  const line = measured('refunds', results.sections['refunds'], 'npm run bench -- --only refunds');
  if (!r) return line;
  const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;
  return [
    `${line} ${r.sizes.refunds} refunds of fresh paid orders, one at a time, on one worker against the dev server and the simulator.`,
    '',
    '| figure | refund | charge (same run) |',
    '| --- | ---: | ---: |',
    `| start → succeeded, p50 | ${ms(r.refundP50Ms)} | ${ms(r.chargeP50Ms)} |`,
    `| start → succeeded, p99 | ${ms(r.refundP99Ms)} | ${ms(r.chargeP99Ms)} |`,
    `| history events of the workflow (median) | ${r.refundHistoryEvents} | ${r.chargeHistoryEvents} |`,
    `| history events of the order's refund lock, per refund (one refund per order) | ${r.lockHistoryEvents} | — |`,
  ].join('\n');
}

/** The part of bench/results.json the cluster page reads. */
export interface ClusterFiguresInput {
  sections: Record<string, SectionRunInput>;
  stream?: StreamInput;
  drain?: {
    sizes: { charges: number; graceMs: number };
    workerRssBytes: number;
    rampSeconds: number;
    drainSeconds: number;
    exitCode: number | null;
  };
  cluster?: { stream?: StreamInput };
}

interface StreamInput {
  events: number;
  rate: number;
  unhandledShare: number;
  answers: Record<string, number>;
  answers503: number;
  ackMs: { p50: number; p99: number; max: number };
}

/** The block of docs/cluster.md with the merchant stream on both servers. */
export const STREAM_FIGURES_BLOCK = 'stream-figures';
/** The block of docs/cluster.md with the drain figure. */
export const DRAIN_FIGURES_BLOCK = 'drain-figures';

/** The merchant stream on the dev server and on the cluster, each as its run measured it. */
export function streamFiguresTable(results: ClusterFiguresInput): string {
  const rows: [string, string, StreamInput | undefined][] = [
    ['dev server (SQLite, 1 shard)', 'stream', results.stream],
    ['cluster (PostgreSQL, 4 shards)', 'cluster.stream', results.cluster?.stream],
  ];
  const lines = rows.map(([, key, st]) =>
    measured(
      key,
      st ? results.sections[key] : undefined,
      'npm run bench -- --only stream --cluster',
    ),
  );
  const ms = (value: number) =>
    value >= 1000 ? `${round(value / 1000)} s` : `${Math.round(value)} ms`;
  return [
    ...lines.map((l, i) => `- ${rows[i]![0]}: ${l}`),
    '',
    '| server | events | at | unhandled types | 200 | 503 | no answer | ack p50 | ack p99 | ack max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows
      .filter((row): row is [string, string, StreamInput] => row[2] !== undefined)
      .map(
        ([name, , st]) =>
          `| ${name} | ${st.events.toLocaleString('en-US')} | ${st.rate}/s | ${Math.round(st.unhandledShare * 100)} % | ${(st.answers['200'] ?? 0).toLocaleString('en-US')} | **${st.answers503.toLocaleString('en-US')}** | ${st.answers['error'] ?? 0} | ${ms(st.ackMs.p50)} | ${ms(st.ackMs.p99)} | ${ms(st.ackMs.max)} |`,
      ),
  ].join('\n');
}

/** The drain figure: SIGTERM to exit with thousands of cached charges. */
export function drainFiguresLine(results: ClusterFiguresInput): string {
  const d = results.drain;
  const line = measured('drain', results.sections['drain'], 'npm run bench -- --only drain');
  if (!d) return line;
  return `${line} The worker held ${d.sizes.charges.toLocaleString('en-US')} cached charges asleep in dunning (ramped in ${Math.round(d.rampSeconds)} s) at ${Math.round(d.workerRssBytes / 2 ** 20).toLocaleString('en-US')} MiB RSS, and **exited ${d.exitCode ?? 'only when killed'} ${round(d.drainSeconds)} s after SIGTERM**, against a shutdown grace of ${d.sizes.graceMs / 1000} s.`;
}
