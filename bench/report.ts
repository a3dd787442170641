// The bench's results: the JSON written to bench/results.json, the figure rows derived from it
// (ours, baseline, ratio, goal, met) and the markdown table in docs/performance.md.
import { readFileSync } from 'node:fs';
import type { ChargeLevel } from './charge.js';
import type { DrainResult } from './drain.js';
import type { MerchantStreamResult } from './merchant-stream.js';
import type { HistoryResult } from './history.js';
import type { IdleResult } from './idle.js';
import type { IngestResult } from './ingest.js';
import { round } from './measure.js';
import type { RefundsResult } from './refunds.js';
import type { RequestCounts, RequestPoint, RequestsResult } from './requests.js';
import type { TimeTravelResult } from './time-travel.js';

/**
 * 3: `requests` (Stripe requests per create), `roundRatios` on ingest and each charge level,
 * `loadAverage`. 4: `sections` (when and under what load each figure ran: a partial run merges
 * into the file), `stream`, `drain`, `cluster`.
 */
export const RESULTS_SCHEMA_VERSION = 4;

/** When one figure ran, for how long, and the machine's load averages at its start and end. */
export interface SectionRun {
  measuredAt: string;
  mode: 'full' | 'quick';
  durationSeconds: number;
  loadAverage: { start: number[]; end: number[] };
}

/** The figures measured again on a Temporal cluster (`--cluster`). */
export interface ClusterFigures {
  server: { address: string; historyShards: number; services: number };
  ingest?: IngestResult;
  charges?: ChargeLevel[];
  stream?: MerchantStreamResult;
}

export interface BenchResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  generatedAt: string;
  mode: 'full' | 'quick';
  durationSeconds: number;
  machine: { cpus: number; node: string; platform: string };
  /**
   * The machine's 1, 5 and 15 min load averages (os.loadavg) when the run started and ended:
   * others' work on a shared machine weighs on the absolute numbers, less on the ratios.
   */
  loadAverage?: { start: number[]; end: number[] };
  ingest?: IngestResult;
  charges?: ChargeLevel[];
  history?: HistoryResult;
  idle?: IdleResult;
  timeTravel?: TimeTravelResult;
  requests?: RequestsResult;
  /** Refund latency and history events (issue 14). */
  refunds?: RefundsResult;
  /** A merchant's webhook stream: 503s and ack latency (issue 15). */
  stream?: MerchantStreamResult;
  /** SIGTERM → exit of a worker holding thousands of cached charges (issue 15). */
  drain?: DrainResult;
  /** Ingest, charge and stream on the cluster, beside the dev server's (issue 15). */
  cluster?: ClusterFigures;
  /** Per figure key (`charge`, `cluster.charge`, …): when it was measured. */
  sections: Record<string, SectionRun>;
  /** One row per figure, as in the table. */
  rows: FigureRow[];
}

/** One line of the table: our figure, the same-run baseline, their ratio, and the goal. */
export interface FigureRow {
  id: string;
  figure: string;
  unit: string;
  ours: number;
  baseline: number | null;
  /** What the baseline is. */
  baselineLabel: string;
  /** ours ÷ baseline (null when there is no baseline). */
  ratio: number | null;
  /** The goal, readable; empty when the figure is reported without one. */
  goal: string;
  /** null when there is no goal. */
  met: boolean | null;
}

/** Worker RSS counts as flat when 10× the sleeping workflows costs at most this factor. */
export const FLAT_RSS_FACTOR = 1.2;

/**
 * Card charges/s ÷ no-op workflows/s, at least: issue 12's bar (0.80×) at 32 in flight, where
 * our work per charge shows most; 0.50× at the lighter levels.
 */
export function chargeThroughputGoal(concurrency: number): number {
  return concurrency >= 32 ? 0.8 : 0.5;
}

const MiB = 2 ** 20;

/** Figures that have rows (the cluster's are built by the same code). */
type RowSources = Pick<
  BenchResults,
  | 'ingest'
  | 'charges'
  | 'history'
  | 'idle'
  | 'timeTravel'
  | 'requests'
  | 'refunds'
  | 'stream'
  | 'drain'
>;

/** The table's rows from whichever figures ran; the cluster's with ids `cluster.<id>`. */
export function buildRows(results: RowSources & Pick<BenchResults, 'cluster'>): FigureRow[] {
  const rows = figureRows(results);
  if (results.cluster)
    rows.push(
      ...figureRows(results.cluster).map((row) => ({
        ...row,
        id: `cluster.${row.id}`,
        figure: `${row.figure}, on the cluster`,
      })),
    );
  return rows;
}

function figureRows(results: RowSources): FigureRow[] {
  const rows: FigureRow[] = [];
  const { ingest, charges, history, idle, timeTravel, requests } = results;
  if (ingest) {
    const c = ingest.sizes.concurrency;
    rows.push({
      id: 'ingest.throughput',
      figure: `Webhook ingest, verified events/s (${c} in flight)`,
      unit: 'events/s',
      ours: ingest.receiver.perSecond,
      baseline: ingest.bareSignals.perSecond,
      baselineLabel: 'bare signal calls/s',
      ratio: ingest.ratio,
      goal: '≥ 0.80×',
      met: ingest.ratio >= 0.8,
    });
    for (const p of ['p50', 'p99'] as const) {
      const ours = ingest.receiver[`${p}Ms`];
      const base = ingest.bareSignals[`${p}Ms`];
      rows.push({
        id: `ingest.${p}`,
        figure: `Webhook ack latency ${p}`,
        unit: 'ms',
        ours,
        baseline: base,
        baselineLabel: `bare signal ${p}`,
        ratio: ours / base,
        goal: '',
        met: null,
      });
    }
  }
  for (const level of charges ?? []) {
    const c = level.concurrency;
    const goal = chargeThroughputGoal(c);
    rows.push(
      {
        id: `charge.c${c}.throughput`,
        figure: `Card charges/s, ${c} in flight`,
        unit: 'charges/s',
        ours: level.ours.perSecond,
        baseline: level.floor.perSecond,
        baselineLabel: 'no-op workflows/s',
        ratio: level.throughputRatio,
        goal: `≥ ${goal.toFixed(2)}×`,
        met: level.throughputRatio >= goal,
      },
      ...(level.signalled
        ? [
            {
              id: `charge.c${c}.signalled`,
              figure: `Card charges/s, ${c} in flight, every webhook signalled (\`signalAnswers\`)`,
              unit: 'charges/s',
              ours: level.signalled.stats.perSecond,
              baseline: level.floor.perSecond,
              baselineLabel: 'no-op workflows/s',
              ratio: level.signalled.throughputRatio,
              goal: '',
              met: null,
            },
          ]
        : []),
      {
        id: `charge.c${c}.p50`,
        figure: `Charge start→succeeded p50, ${c} in flight`,
        unit: 'ms',
        ours: level.ours.p50Ms,
        baseline: level.floor.p50Ms,
        baselineLabel: 'no-op p50',
        ratio: level.p50Ratio,
        goal: '≤ 2×',
        met: level.p50Ratio <= 2,
      },
      {
        id: `charge.c${c}.p99`,
        figure: `Charge start→succeeded p99, ${c} in flight`,
        unit: 'ms',
        ours: level.ours.p99Ms,
        baseline: level.floor.p99Ms,
        baselineLabel: 'no-op p99',
        ratio: level.p99Ratio,
        goal: '',
        met: null,
      },
    );
  }
  if (history) {
    rows.push(
      {
        id: 'history.charge',
        figure: 'History events per successful card charge',
        unit: 'events',
        ours: history.perCharge,
        baseline: history.floor,
        baselineLabel: 'no-op workflow',
        ratio: history.perCharge / history.floor,
        goal: '≤ 25 events',
        met: history.perCharge <= 25,
      },
      {
        id: 'history.reconcile',
        figure: 'History events per reconcile (500 after confirm)',
        unit: 'events',
        ours: history.perReconcile,
        baseline: history.perCharge,
        baselineLabel: 'whole card charge',
        ratio: history.perReconcile / history.perCharge,
        goal: '',
        met: null,
      },
      {
        id: 'history.dunning',
        figure: 'History events per dunning attempt',
        unit: 'events',
        ours: history.perDunningAttempt,
        baseline: history.perCharge,
        baselineLabel: 'whole card charge',
        ratio: history.perDunningAttempt / history.perCharge,
        goal: '≤ 15 events',
        met: history.perDunningAttempt <= 15,
      },
    );
  }
  if (idle) {
    const [small, large] = idle.points as [
      IdleResult['points'][number],
      IdleResult['points'][number],
    ];
    rows.push(
      {
        id: 'idle.rss',
        figure: `Worker RSS, ${large.sleeping} vs ${small.sleeping} sleeping charges`,
        unit: 'MiB',
        ours: large.workerRssBytes / MiB,
        baseline: small.workerRssBytes / MiB,
        baselineLabel: `RSS at ${small.sleeping}`,
        ratio: idle.rssRatio,
        goal: `flat (≤ ${FLAT_RSS_FACTOR}×)`,
        met: idle.rssRatio <= FLAT_RSS_FACTOR,
      },
      {
        id: 'idle.db',
        figure: `Server db (SQLite + WAL), ${large.sleeping} vs ${small.sleeping} sleeping charges`,
        unit: 'MiB',
        ours: large.dbBytes / MiB,
        baseline: small.dbBytes / MiB,
        baselineLabel: `db at ${small.sleeping}`,
        ratio: idle.dbRatio,
        goal: '',
        met: null,
      },
    );
  }
  if (timeTravel) {
    rows.push({
      id: 'travel.campaign',
      figure: `Full default campaign on the time-skipping server (${timeTravel.attempts} attempts)`,
      unit: 's wall',
      ours: timeTravel.campaignWallSeconds,
      baseline: timeTravel.simulatedSeconds,
      baselineLabel: 'campaign span, s simulated',
      ratio: timeTravel.campaignWallSeconds / timeTravel.simulatedSeconds,
      goal: '',
      met: null,
    });
  }
  if (results.refunds) {
    const r = results.refunds;
    rows.push(
      {
        id: 'refunds.p50',
        figure: `Refund start→succeeded p50 (${r.sizes.refunds} refunds, one at a time)`,
        unit: 'ms',
        ours: r.refundP50Ms,
        baseline: r.chargeP50Ms,
        baselineLabel: 'charge start→succeeded p50',
        ratio: r.p50Ratio,
        goal: '',
        met: null,
      },
      {
        id: 'refunds.history',
        figure: 'History events per refund (its workflow; its order lock’s in the notes)',
        unit: 'events',
        ours: r.refundHistoryEvents,
        baseline: r.chargeHistoryEvents,
        baselineLabel: 'events per card charge',
        ratio: r.refundHistoryEvents / r.chargeHistoryEvents,
        goal: '',
        met: null,
      },
    );
  }
  if (results.stream) {
    const st = results.stream;
    rows.push(
      {
        id: 'stream.503',
        figure: `Merchant stream: answers of 503 (${st.events.toLocaleString('en-US')} events at ${st.rate}/s, ${Math.round(st.unhandledShare * 100)} % of types no workflow handles)`,
        unit: 'answers',
        ours: st.answers503,
        baseline: st.events,
        baselineLabel: 'events sent',
        ratio: st.answers503 / st.events,
        goal: '0',
        met: st.answers503 === 0 && (st.answers.error ?? 0) === 0,
      },
      {
        id: 'stream.p99',
        figure: 'Merchant stream: ack latency p99',
        unit: 'ms',
        ours: st.ackMs.p99,
        baseline: st.ackMs.p50,
        baselineLabel: 'ack p50',
        ratio: st.ackMs.p99 / st.ackMs.p50,
        goal: '',
        met: null,
      },
    );
  }
  if (results.drain) {
    const d = results.drain;
    rows.push({
      id: 'drain.seconds',
      figure: `Worker drain: SIGTERM → exit with ${d.sizes.charges.toLocaleString('en-US')} cached sleeping charges`,
      unit: 's',
      ours: d.drainSeconds,
      baseline: d.sizes.graceMs / 1000,
      baselineLabel: 'shutdown grace, s',
      ratio: d.drainSeconds / (d.sizes.graceMs / 1000),
      goal: 'within the grace, exit 0',
      met: d.drainSeconds <= d.sizes.graceMs / 1000 && d.exitCode === 0,
    });
  }
  if (requests) {
    const { empty, busy } = requests;
    const per = (
      id: string,
      what: string,
      total: (point: RequestPoint) => number,
      goal: string,
      met: boolean | null,
    ): FigureRow => ({
      id,
      figure: `Stripe requests per ${what}, ${busy.intentsOnCustomer.toLocaleString('en-US')} intents on the customer`,
      unit: 'requests',
      ours: total(busy),
      baseline: total(empty),
      baselineLabel: `with ${empty.intentsOnCustomer} intents`,
      ratio: total(busy) / total(empty),
      goal,
      met,
    });
    rows.push(
      per('requests.create', 'create', (p) => p.perCreateTotal, 'the same (O(1))', requests.equal),
      per('requests.charge', 'card charge', (p) => p.perChargeTotal, '', null),
    );
  }
  return rows;
}

function show(value: number | null, unit = ''): string {
  if (value === null) return '—';
  const text =
    Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(round(value));
  return unit ? `${text} ${unit}` : text;
}

function showRatio(row: FigureRow): string {
  if (row.ratio === null) return '—';
  if (row.ratio === 0) return '0×';
  // Tiny ratios (time travel) read better as "1 : N".
  return row.ratio < 0.01
    ? `1 : ${Math.round(1 / row.ratio).toLocaleString('en-US')}`
    : `${round(row.ratio)}×`;
}

/** The figures' fields of BenchResults, by their section key. */
const SECTION_FIELDS = {
  ingest: 'ingest',
  charge: 'charges',
  history: 'history',
  idle: 'idle',
  travel: 'timeTravel',
  requests: 'requests',
  refunds: 'refunds',
  stream: 'stream',
  drain: 'drain',
} as const satisfies Record<string, keyof BenchResults>;

/**
 * `fresh` over `previous`: every figure `fresh` measured replaces the old one (with its section
 * run), the others stay as they were measured; the rows are rebuilt from the result.
 */
export function mergeResults(previous: BenchResults, fresh: BenchResults): BenchResults {
  // A run's results hold only the figures it measured (absent keys), so spreads merge them.
  const merged: BenchResults = {
    ...previous,
    ...fresh,
    sections: { ...previous.sections, ...fresh.sections },
  };
  if (previous.cluster && fresh.cluster) merged.cluster = { ...previous.cluster, ...fresh.cluster };
  merged.rows = buildRows(merged);
  return merged;
}

/**
 * The results in `path`, in the shape this bench renders. A schema 3 file (one run, no
 * `sections`) is read as one section per figure it holds, all with that run's date and load.
 */
export function readResults(path: string): BenchResults {
  const results = JSON.parse(readFileSync(path, 'utf8')) as Omit<
    Partial<BenchResults>,
    'schemaVersion'
  > & { schemaVersion?: unknown };
  if (results.schemaVersion === 3) {
    const run: SectionRun = {
      measuredAt: results.generatedAt!,
      mode: results.mode!,
      durationSeconds: results.durationSeconds!,
      loadAverage: results.loadAverage!,
    };
    const sections = Object.fromEntries(
      Object.entries(SECTION_FIELDS)
        .filter(([, field]) => results[field] !== undefined)
        .map(([key]) => [key, run]),
    );
    return { ...(results as BenchResults), schemaVersion: RESULTS_SCHEMA_VERSION, sections };
  }
  if (results.schemaVersion !== RESULTS_SCHEMA_VERSION)
    throw new Error(
      `${path} has results schema ${String(results.schemaVersion)}, this bench renders ${RESULTS_SCHEMA_VERSION}: run \`npm run bench\` again`,
    );
  return results as BenchResults;
}

/** When each figure ran and the 1-min load average at its start and end (merged runs differ). */
export function sectionsLine(results: Pick<BenchResults, 'sections'>): string {
  const parts = Object.entries(results.sections).map(
    ([key, run]) =>
      `${key} ${run.measuredAt.slice(0, 16).replace('T', ' ')} UTC (${Math.round(run.durationSeconds)} s, load ${round(run.loadAverage.start[0] ?? 0)} → ${round(run.loadAverage.end[0] ?? 0)}${run.mode === 'quick' ? ', quick' : ''})`,
  );
  return `Each figure's run (\`--only\` runs merge into the file): ${parts.join('; ')}.`;
}

/** The dev server's and the cluster's rows side by side (one row per figure measured on both). */
export function clusterTable(results: Pick<BenchResults, 'rows' | 'cluster'>): string {
  const server = results.cluster?.server;
  const byId = new Map(results.rows.map((r) => [r.id, r]));
  const pairs = results.rows
    .filter((r) => r.id.startsWith('cluster.'))
    .map((c) => [byId.get(c.id.slice('cluster.'.length)), c] as const)
    .filter((pair): pair is readonly [FigureRow, FigureRow] => pair[0] !== undefined);
  const cell = (r: FigureRow) =>
    `${show(r.ours, r.unit)}${r.ratio === null ? '' : ` (${showRatio(r)})`}${r.met === false ? ' **missed**' : ''}`;
  return [
    `The same figures on a Temporal cluster (\`npm run bench -- --cluster\`: the server built from \`go.temporal.io/server\` on PostgreSQL, ${server?.services ?? '?'} service processes, ${server?.historyShards ?? '?'} history shards, from a fresh data directory), measured after the dev server's in the same run, with the same worker, simulator and receiver in the bench process. Ratios in brackets, each against its own server's baseline.`,
    '',
    '| figure | dev server (SQLite, 1 shard) | cluster (PostgreSQL) | goal |',
    '|---|---:|---:|---|',
    ...pairs.map(
      ([dev, c]) => `| ${dev.figure} | ${cell(dev)} | ${cell(c)} | ${dev.goal || '—'} |`,
    ),
  ].join('\n');
}

/** docs/performance.md: the table plus how to read it. Generated; never edited by hand. */
export function renderMarkdown(results: BenchResults): string {
  const { loadAverage } = results;
  const load = loadAverage
    ? `, load average ${loadAverage.start.map((l) => round(l)).join(' / ')} (1 / 5 / 15 min) at the start and ${loadAverage.end.map((l) => round(l)).join(' / ')} at the end`
    : '';
  const lines = [
    '<!-- Generated by `npm run bench` from bench/results.json (`npm run bench -- --render` redraws it). Do not edit. -->',
    '',
    `Measured ${results.generatedAt.slice(0, 10)} with \`npm run bench\`${results.mode === 'quick' ? ' --quick (tiny sizes: a smoke run, not figures)' : ''} on ${results.machine.cpus} CPUs, Node ${results.machine.node}, in ${Math.round(results.durationSeconds)} s${load}. Every baseline is measured in the same run on the same Temporal server, so the ratio is the figure; the absolute numbers depend on the machine and whatever else runs on it.`,
    '',
    sectionsLine(results),
    '',
    '| figure | ours | baseline | ratio | goal | met? |',
    '|---|---:|---:|---:|---|---|',
    ...results.rows
      .filter((r) => !r.id.startsWith('cluster.'))
      .map(
        (r) =>
          `| ${r.figure} | ${show(r.ours, r.unit)} | ${show(r.baseline)} (${r.baselineLabel}) | ${showRatio(r)} | ${r.goal || '—'} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} |`,
      ),
    '',
  ];
  if (results.cluster) lines.push(clusterTable(results), '');
  const missed = results.rows.filter((r) => r.met === false).map((r) => r.figure);
  if (missed.length > 0)
    lines.push(
      `Goals missed in this run: ${missed.join('; ')}. Each round's ratio is on the next line.`,
      '',
    );
  const { ingest, charges, history, idle, timeTravel, requests } = results;
  const spread = (ratios: readonly number[]) => ratios.map((r) => `${round(r)}×`).join(', ');
  if (ingest || charges) {
    const parts = [
      ...(ingest ? [`webhook ingest ${spread(ingest.roundRatios)}`] : []),
      ...(charges ?? []).map(
        (l) =>
          `card charges at ${l.concurrency} in flight ${spread(l.roundRatios)}${l.signalled ? ` (every webhook signalled ${spread(l.signalled.roundRatios)})` : ''}`,
      ),
      ...(results.cluster?.ingest
        ? [`on the cluster, webhook ingest ${spread(results.cluster.ingest.roundRatios)}`]
        : []),
      ...(results.cluster?.charges ?? []).map(
        (l) =>
          `on the cluster, card charges at ${l.concurrency} in flight ${spread(l.roundRatios)}`,
      ),
    ];
    lines.push(
      `Ratio in each round (ours ÷ baseline, the sides taking turns going first): ${parts.join('; ')}.`,
      '',
    );
  }
  const metered = (charges ?? []).filter((l) => l.cpuMs !== undefined);
  if (metered.length > 0) {
    const side = (cpu: { bench: number; server?: number }) =>
      `${show(cpu.bench)} ms in the bench process` +
      (cpu.server === undefined ? '' : ` and ${show(cpu.server)} ms in the Temporal server`);
    const levels = metered.map(
      (l) =>
        `at ${l.concurrency} in flight a card charge ${side(l.cpuMs!.ours)}${l.cpuMs!.signalled ? ` (every webhook signalled: ${side(l.cpuMs!.signalled)})` : ''}, a floor workflow ${side(l.cpuMs!.floor)}`,
    );
    lines.push(
      `Where the CPU goes (per workflow, all rounds; the bench process is the worker with its workflow thread, the receiver, the Stripe simulator and the driver, so a charge's share includes what Stripe itself would spend): ${levels.join('; ')}.`,
      '',
    );
  }
  if (history) {
    const top = (b: Record<string, number>) =>
      Object.entries(b)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    lines.push(
      `A card charge's history: ${top(history.breakdown.charge)}. One dunning attempt: ${top(history.breakdown.dunningAttempt)}. The reconcile and dunning figures are differences between real histories: a charge whose confirm answered 500 after executing (${history.counts.reconcile} events) minus a plain charge, and a soft-decline campaign with ${1 + history.sizes.retries} retries (${history.counts.dunningN} events) minus one with 1 (${history.counts.dunning1}), divided by ${history.sizes.retries}: both campaigns send the final warning, give up and run the final action once, so only the attempts differ.`,
      '',
    );
  }
  if (idle) {
    const [small, large] = idle.points as [
      IdleResult['points'][number],
      IdleResult['points'][number],
    ];
    lines.push(
      `Idle cost: \`src/worker.ts\` as its own process (env config, pre-built bundle, \`WORKER_MAX_CACHED_WORKFLOWS=${idle.maxCachedWorkflows}\`); RSS read from /proc once it settled. The worker polling with nothing asleep: ${show(idle.emptyRssBytes / MiB)} MiB; from there to a full cache RSS grew by about ${show(idle.rssBytesPerCachedWorkflow / 1024)} KiB per cached charge, garbage-collector headroom and allocator slack included. A charge beyond the cache costs the worker nothing until it wakes (then it replays its history once). The ramp kept at most ${idle.sizes.inFlight} charges in flight: ${small.sleeping} asleep after ${show(small.rampSeconds)} s, ${large.sleeping} after another ${show(large.rampSeconds)} s. The db grows by about ${show(idle.dbBytesPerWorkflow / 1024)} KiB per sleeping charge.`,
      '',
    );
  }
  if (requests) {
    const routes = (counts: RequestCounts) =>
      Object.entries(counts)
        .map(([route, k]) => `\`${route}\` ${round(k)}`)
        .join(', ');
    const { empty, busy } = requests;
    const activities = Object.entries(busy.perCharge)
      .map(([type, counts]) => `${type} (${routes(counts)})`)
      .join(', ');
    lines.push(
      `Stripe requests: stripe-node's own \`request\` events during ${busy.charges} card charges through the workflow for each customer, one at a time, attributed to the activity that sent them (the SDK's activity context is current in the listener). A create sent ${routes(busy.perCreate)} with ${busy.intentsOnCustomer.toLocaleString('en-US')} intents on the customer, and ${routes(empty.perCreate)} with ${empty.intentsOnCustomer}. A whole charge with ${busy.intentsOnCustomer.toLocaleString('en-US')}: ${activities}. Activity retries: ${empty.retries + busy.retries}; requests without a response: ${empty.unanswered + busy.unanswered}; requests outside an activity: ${empty.unattributed + busy.unattributed}. The ${busy.intentsOnCustomer.toLocaleString('en-US')} intents were created through stripe-node in ${show(requests.seedSeconds)} s; the create's search took a median ${show(empty.searchMedianMs)} ms for the customer with ${empty.intentsOnCustomer} and ${show(busy.searchMedianMs)} ms for the one with ${busy.intentsOnCustomer.toLocaleString('en-US')} (a timing without a goal: the simulator answers a search pinned to \`metadata['order_id']\` from an index of the intents' metadata, as Stripe's search is indexed).`,
      '',
    );
  }
  if (timeTravel) {
    lines.push(
      `Time travel: ${show(timeTravel.simulatedSeconds / 86400)} days of dunning (${timeTravel.attempts} attempts, ${timeTravel.historyEvents} history events) in ${show(timeTravel.campaignWallSeconds)} s of wall time, ${show(timeTravel.totalWallSeconds)} s with the server's start.`,
      '',
    );
  }
  return lines.join('\n');
}
