// What the bench runs and how big: the full sizes (about ten minutes on two cores), `--quick`
// (the smoke test's seconds), and overrides by flag (`--idle 500,5000`) or env (`BENCH_IDLE`).
import type { ChargeSizes } from './charge.js';
import type { DrainSizes } from './drain.js';
import type { MerchantStreamOptions } from './merchant-stream.js';
import type { HistorySizes } from './history.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../src/config.js';
import type { IdleSizes } from './idle.js';
import type { IngestSizes } from './ingest.js';
import type { RefundSizes } from './refunds.js';
import type { RequestSizes } from './requests.js';

export const FIGURES = [
  'ingest',
  'charge',
  'history',
  'idle',
  'travel',
  'refunds',
  'stream',
  'drain',
  'requests',
] as const;
export type Figure = (typeof FIGURES)[number];

export interface BenchOptions {
  mode: 'full' | 'quick';
  figures: Figure[];
  ingest: IngestSizes;
  charge: ChargeSizes;
  history: HistorySizes;
  idle: IdleSizes;
  requests: RequestSizes;
  refunds: RefundSizes;
  stream: MerchantStreamOptions;
  drain: DrainSizes;
  /**
   * Also run the ingest, charge and stream figures on a Temporal cluster (`npm run cluster`'s
   * shape, Temporal alone, from a fresh data directory), side by side with the dev server.
   */
  cluster: boolean;
  /** Where the JSON and the markdown go. */
  out: string;
  markdown: string;
  /** Only redraw the markdown from an existing JSON. */
  render: boolean;
  quiet: boolean;
}

export const FULL: Omit<BenchOptions, 'out' | 'markdown' | 'render' | 'quiet' | 'cluster'> = {
  mode: 'full',
  figures: [...FIGURES],
  ingest: { targets: 20, events: 1500, concurrency: 32, rounds: 4 },
  charge: { concurrencies: [1, 8, 32], perLane: 6, minCharges: 30, rounds: 2 },
  history: { samples: 5, retries: 3 },
  idle: {
    small: 1000,
    large: 10_000,
    inFlight: 200,
    cache: DEFAULT_MAX_CACHED_WORKFLOWS,
    settleTolerance: 0.01,
    settleSamples: 5,
    stopGraceMs: 10_000,
  },
  requests: { intents: 10_000, charges: 5, seedConcurrency: 8 },
  refunds: { refunds: 30 },
  // Issue 15: 100 events/s of a merchant's mix for 5 minutes.
  stream: { events: 30_000, rate: 100, unhandledShare: 0.7 },
  drain: { charges: 5000, inFlight: 200, graceMs: 10_000 },
};

export const QUICK: typeof FULL = {
  mode: 'quick',
  figures: [...FIGURES],
  ingest: { targets: 2, events: 30, concurrency: 4, rounds: 1 },
  charge: { concurrencies: [1, 4], perLane: 1, minCharges: 4, rounds: 1 },
  history: { samples: 1, retries: 1 },
  idle: {
    small: 4,
    large: 12,
    inFlight: 4,
    cache: 6,
    settleTolerance: 0.05,
    settleSamples: 2,
    stopGraceMs: 2000,
  },
  // The full 10,000 intents: the smoke test asserts the count per create is the same with them.
  requests: { intents: 10_000, charges: 2, seedConcurrency: 8 },
  refunds: { refunds: 2 },
  stream: { events: 60, rate: 30, unhandledShare: 0.7 },
  drain: { charges: 10, inFlight: 10, graceMs: 10_000 },
};

export const USAGE = `usage: npm run bench -- [--quick] [--only ${FIGURES.join(',')}] [size flags]
  --quick                 tiny sizes (seconds): a smoke run, not figures
  --only a,b              run only these figures (default: all)
  --ingest-events N       events per round and side (full: ${FULL.ingest.events})
  --ingest-concurrency N  requests in flight (full: ${FULL.ingest.concurrency})
  --charge-concurrency L  comma list (full: ${FULL.charge.concurrencies.join(',')})
  --charge-per-lane N     charges per in-flight lane per round (full: ${FULL.charge.perLane})
  --rounds N              rounds of (baseline, ours) for ingest and charges (full: ${FULL.ingest.rounds} and ${FULL.charge.rounds})
  --idle S,L              sleeping charges at the two points (full: ${FULL.idle.small},${FULL.idle.large})
  --idle-cache N          the idle worker's WORKER_MAX_CACHED_WORKFLOWS (full: ${FULL.idle.cache})
  --requests-intents N    intents on the busy customer of the requests figure (full: ${FULL.requests.intents})
  --stream-events N       events of the merchant stream, at ${FULL.stream.rate}/s (full: ${FULL.stream.events})
  --drain-charges N       cached sleeping charges when the drain's worker gets SIGTERM (full: ${FULL.drain.charges})
  --cluster               also run ingest, charge and stream on a fresh Temporal cluster (PostgreSQL, 4 shards)
  --out PATH              results JSON (default bench/results.json)
  --markdown PATH         table (default docs/performance.md)
  --render                only redraw the markdown from the JSON
  --quiet                 no progress on stderr
Each flag also reads from the environment: --idle-… ⇔ BENCH_IDLE, --quick ⇔ BENCH_QUICK=1.`;

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive whole number, got "${text}"`);
  return value;
}

function intList(name: string, text: string): number[] {
  return text.split(',').map((part) => positiveInt(name, part.trim()));
}

/** Parses argv (without node and script) and the environment into options. */
export function parseOptions(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): BenchOptions {
  const flags = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('BENCH_') || value === undefined || value === '') continue;
    flags.set(name.slice('BENCH_'.length).toLowerCase().replaceAll('_', '-'), value);
  }
  const booleans = new Set(['quick', 'render', 'quiet', 'help', 'cluster']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (booleans.has(name)) flags.set(name, inline ?? '1');
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
      flags.set(name, value);
    }
  }
  if (flags.has('help')) throw new Error(USAGE);
  const on = (name: string) => ['1', 'true', 'yes'].includes(flags.get(name) ?? '');
  const base = on('quick') ? QUICK : FULL;
  const options: BenchOptions = {
    ...structuredClone(base),
    out: flags.get('out') ?? 'bench/results.json',
    markdown: flags.get('markdown') ?? 'docs/performance.md',
    render: on('render'),
    quiet: on('quiet'),
    cluster: on('cluster'),
  };
  const known = new Set([
    ...booleans,
    'only',
    'ingest-events',
    'ingest-concurrency',
    'charge-concurrency',
    'charge-per-lane',
    'rounds',
    'idle',
    'idle-cache',
    'requests-intents',
    'stream-events',
    'drain-charges',
    'out',
    'markdown',
  ]);
  for (const [name, value] of flags) {
    switch (name) {
      case 'only': {
        const figures = value.split(',').map((f) => f.trim());
        for (const f of figures)
          if (!(FIGURES as readonly string[]).includes(f))
            throw new Error(`--only: unknown figure "${f}" (one of ${FIGURES.join(', ')})`);
        options.figures = figures as Figure[];
        break;
      }
      case 'ingest-events':
        options.ingest.events = positiveInt(name, value);
        break;
      case 'ingest-concurrency':
        options.ingest.concurrency = positiveInt(name, value);
        break;
      case 'charge-concurrency':
        options.charge.concurrencies = intList(name, value);
        break;
      case 'charge-per-lane':
        options.charge.perLane = positiveInt(name, value);
        break;
      case 'rounds':
        options.ingest.rounds = options.charge.rounds = positiveInt(name, value);
        break;
      case 'idle': {
        const [small, large] = intList(name, value);
        if (small === undefined || large === undefined || large <= small)
          throw new Error(`--idle must be two counts, small then large, e.g. 1000,10000`);
        options.idle.small = small;
        options.idle.large = large;
        break;
      }
      case 'idle-cache':
        options.idle.cache = positiveInt(name, value);
        break;
      case 'requests-intents':
        options.requests.intents = positiveInt(name, value);
        break;
      case 'stream-events':
        options.stream.events = positiveInt(name, value);
        break;
      case 'drain-charges':
        options.drain.charges = positiveInt(name, value);
        break;
      default:
        if (!known.has(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
    }
  }
  return options;
}
