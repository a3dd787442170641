// `npm run docs`: regenerates every generated block of the docs from its source, so no figure is
// typed by hand: the configuration table (the config schema), the Performance page's tables
// (bench/results.json), the recorded histories' sizes (test/replay/histories/*.json), the
// campaign picture's history (docs/campaign-history.json), the Chaos page's run tables and the
// Cluster page's summary of the cluster run (the files `npm run chaos -- --out` wrote).
// test/docs.test.ts compares each block with this rendering.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { readResults, renderMarkdown } from '../bench/report.js';
import { clusterRunSummary, withChaosResults } from '../chaos/report.js';
import { readBlock, withBlock } from '../src/docs/blocks.js';
import { CONFIG_BLOCK, configReference } from '../src/docs/config-reference.js';
import {
  campaignHistoryLine,
  DRAIN_FIGURES_BLOCK,
  drainFiguresLine,
  REFUND_FIGURES_BLOCK,
  refundFiguresTable,
  STREAM_FIGURES_BLOCK,
  streamFiguresTable,
  PERFORMANCE_BLOCK,
  recordedHistoriesTable,
  ROUNDS_BLOCK,
  roundSpreadTable,
  type CampaignHistoryInput,
} from '../src/docs/figures.js';
import { SCENARIOS } from '../test/replay/scenarios.js';

/** One generated block: the page it sits in, its marker name, its source and its rendering. */
export interface GeneratedBlock {
  page: string;
  block: string;
  source: string;
  body: string;
}

const read = (path: string) => readFileSync(path, 'utf8');
const json = <T>(path: string) => JSON.parse(read(path)) as T;

const HISTORIES = 'test/replay/histories';
/** The cluster chaos run (`npm run chaos -- --cluster --out docs/chaos-cluster.md`) and its figures. */
const CLUSTER_RUN = 'docs/chaos-cluster.md';
const CLUSTER_RUN_FIGURES = 'docs/chaos-cluster.json';

/** The chaos results file a page's block was rendered from (its "Rendered from" line). */
function chaosSource(page: string, block: string, fallback: string): string {
  try {
    return /Rendered from `([^`]+)`/.exec(readBlock(read(page), block, page))?.[1] ?? fallback;
  } catch {
    return fallback;
  }
}

/** Every generated block of the docs, rendered from its source as it is now. */
export function generatedBlocks(): GeneratedBlock[] {
  const bench = readResults('bench/results.json');
  const histories = readdirSync(HISTORIES)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const scenario = SCENARIOS.find((s) => `${s.name}.json` === file);
      if (!scenario)
        throw new Error(`${HISTORIES}/${file} has no scenario in test/replay/scenarios.ts`);
      return {
        file,
        paymentMethodId: scenario.paymentMethodId,
        fault: scenario.fault?.kind,
        retryDelaysDays: scenario.dunning?.retryDelaysDays,
        eventTypes: json<{ events: { eventType: string }[] }>(`${HISTORIES}/${file}`).events.map(
          (e) => e.eventType,
        ),
      };
    });
  const campaign = 'docs/campaign-history.json';
  const chaos = (block: string, fallback: string): GeneratedBlock => {
    const source = chaosSource('docs/chaos.md', block, fallback);
    return {
      page: 'docs/chaos.md',
      block,
      source,
      body: readBlock(withChaosResults(read('docs/chaos.md'), source), block, 'docs/chaos.md'),
    };
  };
  return [
    {
      page: 'docs/configuration.md',
      block: CONFIG_BLOCK,
      source: 'src/config.ts',
      body: configReference(),
    },
    {
      page: 'docs/performance.md',
      block: PERFORMANCE_BLOCK,
      source: 'bench/results.json',
      body: renderMarkdown(bench),
    },
    {
      page: 'docs/performance.md',
      block: ROUNDS_BLOCK,
      source: 'bench/results.json',
      body: roundSpreadTable(bench),
    },
    {
      page: 'docs/refunds-and-disputes.md',
      block: REFUND_FIGURES_BLOCK,
      source: 'bench/results.json',
      body: refundFiguresTable(bench),
    },
    {
      page: 'docs/cluster.md',
      block: STREAM_FIGURES_BLOCK,
      source: 'bench/results.json',
      body: streamFiguresTable(bench),
    },
    {
      page: 'docs/cluster.md',
      block: DRAIN_FIGURES_BLOCK,
      source: 'bench/results.json',
      body: drainFiguresLine(bench),
    },
    {
      page: 'docs/stripe-outcomes.md',
      block: 'recorded-histories',
      source: HISTORIES,
      body: recordedHistoriesTable(histories),
    },
    {
      page: 'docs/dunning.md',
      block: 'campaign-history',
      source: campaign,
      body: campaignHistoryLine(json<CampaignHistoryInput>(campaign), campaign),
    },
    chaos('chaos-table', 'docs/chaos-full.md'),
    chaos('chaos-adversarial-table', 'docs/chaos-adversarial.md'),
    chaos('chaos-cluster-table', CLUSTER_RUN),
    ...['docs/cluster.md', 'README.md'].map((page) => ({
      page,
      block: 'chaos-cluster-summary',
      source: CLUSTER_RUN_FIGURES,
      body: clusterRunSummary(CLUSTER_RUN_FIGURES),
    })),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const pages = new Map<string, string>();
  for (const { page, block, body } of generatedBlocks())
    pages.set(page, withBlock(pages.get(page) ?? read(page), block, body, page));
  // Formatted as the repository's Prettier config says, so the format check stays clean.
  for (const [page, text] of pages)
    writeFileSync(page, await format(text, { ...(await resolveConfig(page)), filepath: page }));
  console.log(`regenerated: ${[...pages.keys()].join(', ')}`);
}
