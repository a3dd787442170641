// What a schema library costs each sleeping workflow (issue 13): src/shared/validate.ts (the
// project's own validator) against valibot 1.x, on the same schemas, in an in-process heap
// profile. With reuseV8Context every workflow execution evaluates its own copy of the bundle's
// modules, so a library's module scope is paid per workflow, on each creation and each replay.
//
//   tsx bench/schema-cost.ts [--workflows N] [--rounds R] [--warmup W] [--out bench/schema-cost.json]
//                            [--doc docs/schema-cost.md] [--render-only]
//
// Three workflow entries (bench/schema-cost/*.ts) register a charge's handlers and sleep for
// 30 days: (a) bare, validating nothing (the baseline); (b) validating the input and payloads
// with src/shared/schemas.ts; (c) with the same schemas ported to valibot; (d) the entry of (c),
// bundled with valibot cut (esbuild, tree-shaken) to the functions the port calls: the SDK's
// webpack runs in development mode and keeps every export. Defaults: N = 300, W = 20, R = 3
// (about 5 minutes on 2 cores). For each variant, in
// each round: a fresh in-process worker (debugMode, the SDK's default reuseV8Context, a cache
// big enough for all) on the provisioned Temporal dev server; W workflows to warm it, then GC and
// the heap; N more workflows started and all asleep (cached, nothing in flight), then GC and the
// heap again. Heap per workflow = (after − before) / N; CPU per workflow = process.cpuUsage()
// over the N starts / N (this process: the worker, the client and the SDK's native threads).
// Rounds alternate the variants' order. The figures on a shared 2-core machine are noisy: the
// same-round ratios against the baseline, and their spread over the rounds, are the result.
// Writes the JSON results and their markdown rendering (the doc is made from the file only).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { createLocalTemporal } from '../src/embedded/dev-server.js';
import { DEV_SERVER_VERSION, devServerExecutable } from '../src/embedded/servers.js';

export const SCHEMA_COST_VERSION = 1;
/** Adopt valibot if it costs at most this much of validate.ts's (heap and CPU, each). */
export const THRESHOLD = 1.2;

const VARIANTS = ['bare', 'validate', 'valibot', 'valibotShaken'] as const;
type Variant = (typeof VARIANTS)[number];
/** The variants that validate (each compared with the bare workflow of its round). */
const VALIDATING = ['validate', 'valibot', 'valibotShaken'] as const;
type Validating = (typeof VALIDATING)[number];
/** The valibot variants (each compared with validate.ts). */
const VALIBOT = ['valibot', 'valibotShaken'] as const;
type Valibot = (typeof VALIBOT)[number];
const LABELS: Record<Variant, string> = {
  bare: '(a) bare workflow, no validation',
  validate: '(b) src/shared/schemas.ts on validate.ts',
  valibot: '(c) the same schemas on valibot 1.5.0',
  valibotShaken: '(d) as (c), valibot cut to the functions the port uses',
};

const REPO = fileURLToPath(new URL('..', import.meta.url));
const PORT_FILES = ['valibot-schemas.ts', 'valibot.ts'].map((f) =>
  fileURLToPath(new URL(`./schema-cost/${f}`, import.meta.url)),
);
const entry = (variant: Variant) =>
  fileURLToPath(
    new URL(
      `./schema-cost/${variant === 'valibotShaken' ? 'valibot' : variant}.ts`,
      import.meta.url,
    ),
  );

/** A charge's input, valid for both schema sets (the workflows fail on an invalid one). */
const INPUT = {
  orderId: 'schema-cost',
  customerId: 'cus_schema_cost',
  amount: 1999,
  currency: 'usd',
  paymentMethodId: 'pm_card_visa',
  description: 'schema-cost bench',
  metadata: { plan: 'pro' },
  dunning: { retryDelaysDays: [1, 2, 3], notify: { paymentFailed: 'every' } },
};

interface Stats {
  median: number;
  min: number;
  max: number;
}

interface Sample {
  heapBytesBefore: number;
  heapBytesAfter: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  wallMs: number;
  heapKiBPerWorkflow: number;
  cpuMsPerWorkflow: number;
  wallMsPerWorkflow: number;
}

interface Ratios {
  heap: number;
  cpu: number;
}

type PerWorkflow = { heapKiBPerWorkflow: number; cpuMsPerWorkflow: number };

interface Round {
  round: number;
  order: Variant[];
  variants: Record<Variant, Sample>;
  /** The variant's cost minus the bare workflow's, same round (the schemas' own share). */
  overBaseline: Record<Validating, PerWorkflow>;
  /** valibot / validate.ts: `overBaseline` (the libraries' own cost) and `total` (whole workflow). */
  ratios: Record<Valibot, { overBaseline: Ratios; total: Ratios }>;
}

type RatioStats = { overBaseline: { heap: Stats; cpu: Stats }; total: { heap: Stats; cpu: Stats } };

export interface SchemaCostResults {
  schemaVersion: number;
  generatedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; temporalSdk: string; valibot: string };
  settings: {
    workflows: number;
    warmup: number;
    rounds: number;
    server: string;
    worker: string;
    variants: Record<Variant, string>;
  };
  bundles: Record<Variant, { bytes: number; codeBytes: number }>;
  /** The valibot exports kept in variant (d)'s valibot (what the port calls). */
  shakenExports: string[];
  rounds: Round[];
  summary: {
    variants: Record<
      Variant,
      { heapKiBPerWorkflow: Stats; cpuMsPerWorkflow: Stats; wallMsPerWorkflow: Stats }
    >;
    overBaseline: Record<Validating, { heapKiBPerWorkflow: Stats; cpuMsPerWorkflow: Stats }>;
    ratios: Record<Valibot, RatioStats>;
  };
  decision: {
    rule: string;
    threshold: number;
    heapWithin: boolean;
    /** Within, or (when the CPU is not resolved) no measurable difference. */
    cpuWithin: boolean;
    /**
     * Whether validate.ts's CPU over the baseline was above zero in every round: if not, the CPU
     * differences are within this machine's noise and their ratio means nothing.
     */
    cpuResolved: boolean;
    verdict: 'adopt valibot' | 'keep validate.ts';
    /** The same rule applied to variant (d): would a tree-shaken valibot pass it? */
    shaken: { heapWithin: boolean; cpuWithin: boolean };
  };
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Heap used after full collections (a few, with turns between, for finalizers and weak refs). */
async function heapAfterGc(): Promise<number> {
  const gc = globalThis.gc!;
  for (let i = 0; i < 4; i++) {
    gc();
    await sleepMs(50);
  }
  return process.memoryUsage().heapUsed;
}

function packageVersion(name: string): string {
  const path = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

async function startMany(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  count: number,
  concurrency = 32,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        await env.client.workflow.start('schemaCost', {
          taskQueue,
          workflowId: `${taskQueue}-${randomUUID()}`,
          args: [INPUT],
        });
      }
    }),
  );
}

/** Until `count` workflows are cached and no activation is in flight: all asleep. */
async function untilAsleep(worker: Worker, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = worker.getStatus();
    if (status.numCachedWorkflows >= count && status.numInFlightWorkflowActivations === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `only ${status.numCachedWorkflows} of ${count} workflows asleep after ${timeoutMs} ms (did a workflow fail?)`,
      );
    await sleepMs(25);
  }
}

async function measure(
  env: TestWorkflowEnvironment,
  code: string,
  variant: Variant,
  workflows: number,
  warmup: number,
): Promise<Sample> {
  const taskQueue = `schema-cost-${variant}-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { code },
    debugMode: true,
    maxCachedWorkflows: workflows + warmup + 16,
  });
  const running = worker.run();
  try {
    await startMany(env, taskQueue, warmup);
    await untilAsleep(worker, warmup);
    const heapBytesBefore = await heapAfterGc();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await startMany(env, taskQueue, workflows);
    await untilAsleep(worker, warmup + workflows);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const heapBytesAfter = await heapAfterGc();
    const cpuUserMs = cpu.user / 1000;
    const cpuSystemMs = cpu.system / 1000;
    return {
      heapBytesBefore,
      heapBytesAfter,
      cpuUserMs,
      cpuSystemMs,
      wallMs,
      heapKiBPerWorkflow: (heapBytesAfter - heapBytesBefore) / 1024 / workflows,
      cpuMsPerWorkflow: (cpuUserMs + cpuSystemMs) / workflows,
      wallMsPerWorkflow: wallMs / workflows,
    };
  } finally {
    worker.shutdown();
    await running;
  }
}

const mapOf = <K extends string, T>(keys: readonly K[], f: (k: K) => T): Record<K, T> =>
  Object.fromEntries(keys.map((k) => [k, f(k)])) as Record<K, T>;

function summarize(rounds: Round[]): SchemaCostResults['summary'] {
  const of = (f: (r: Round) => number) => stats(rounds.map(f));
  return {
    variants: mapOf(VARIANTS, (v) => ({
      heapKiBPerWorkflow: of((r) => r.variants[v].heapKiBPerWorkflow),
      cpuMsPerWorkflow: of((r) => r.variants[v].cpuMsPerWorkflow),
      wallMsPerWorkflow: of((r) => r.variants[v].wallMsPerWorkflow),
    })),
    overBaseline: mapOf(VALIDATING, (v) => ({
      heapKiBPerWorkflow: of((r) => r.overBaseline[v].heapKiBPerWorkflow),
      cpuMsPerWorkflow: of((r) => r.overBaseline[v].cpuMsPerWorkflow),
    })),
    ratios: mapOf(VALIBOT, (v) => ({
      overBaseline: {
        heap: of((r) => r.ratios[v].overBaseline.heap),
        cpu: of((r) => r.ratios[v].overBaseline.cpu),
      },
      total: {
        heap: of((r) => r.ratios[v].total.heap),
        cpu: of((r) => r.ratios[v].total.cpu),
      },
    })),
  };
}

function toRound(round: number, order: Variant[], variants: Record<Variant, Sample>): Round {
  const overBaseline = mapOf(VALIDATING, (v) => ({
    heapKiBPerWorkflow: variants[v].heapKiBPerWorkflow - variants.bare.heapKiBPerWorkflow,
    cpuMsPerWorkflow: variants[v].cpuMsPerWorkflow - variants.bare.cpuMsPerWorkflow,
  }));
  return {
    round,
    order,
    variants,
    overBaseline,
    ratios: mapOf(VALIBOT, (v) => ({
      overBaseline: {
        heap: overBaseline[v].heapKiBPerWorkflow / overBaseline.validate.heapKiBPerWorkflow,
        cpu: overBaseline[v].cpuMsPerWorkflow / overBaseline.validate.cpuMsPerWorkflow,
      },
      total: {
        heap: variants[v].heapKiBPerWorkflow / variants.validate.heapKiBPerWorkflow,
        cpu: variants[v].cpuMsPerWorkflow / variants.validate.cpuMsPerWorkflow,
      },
    })),
  };
}

const RULE =
  'Adopt valibot if, per sleeping workflow, its cost over the bare baseline is at most 1.20 × validate.ts’s, for heap and for CPU (the median of the rounds’ same-round ratios), bundled as the project bundles workflows (variant c).';

export function decide(summary: SchemaCostResults['summary']): SchemaCostResults['decision'] {
  const cpuResolved = summary.overBaseline.validate.cpuMsPerWorkflow.min > 0;
  const within = (v: Valibot) => ({
    heapWithin: summary.ratios[v].overBaseline.heap.median <= THRESHOLD,
    cpuWithin: !cpuResolved || summary.ratios[v].overBaseline.cpu.median <= THRESHOLD,
  });
  const { heapWithin, cpuWithin } = within('valibot');
  return {
    rule: RULE,
    threshold: THRESHOLD,
    heapWithin,
    cpuWithin,
    cpuResolved,
    verdict: heapWithin && cpuWithin ? 'adopt valibot' : 'keep validate.ts',
    shaken: within('valibotShaken'),
  };
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const spread = (s: Stats, fmt: (n: number) => string) =>
  `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

const pair = (s: { heap: Stats; cpu: Stats }) =>
  `heap ${spread(s.heap, f2)}, CPU ${spread(s.cpu, f2)}`;

/** The markdown page, from the results only. */
export function renderMarkdown(r: SchemaCostResults): string {
  const { summary, decision, settings } = r;
  const n = settings.workflows;
  const yes = (ok: boolean) => (ok ? 'within' : 'not within');
  const lines = [
    '# What a schema library costs a sleeping workflow',
    '',
    '<!-- Generated by `tsx bench/schema-cost.ts` from bench/schema-cost.json (`--render-only` re-renders it); do not edit. -->',
    '',
    'With `reuseV8Context` every workflow execution evaluates its own copy of the workflow',
    'bundle’s modules, so a validation library’s module scope is paid by every workflow the',
    'worker creates or replays. This profile compares `src/shared/validate.ts` (the project’s',
    'own validator) with valibot on the same schemas: `chargeInputSchema` with the dunning',
    'override, the stripeEvent signal, the retryNow and cancel payloads. The port is',
    '`bench/schema-cost/valibot-schemas.ts`; `test/bench/schema-cost.test.ts` checks that it',
    'accepts and rejects what the project’s schemas do, with the same messages.',
    '',
    `**Verdict: ${decision.verdict}.** ${decision.rule}`,
    '',
    `- valibot / validate.ts, over the baseline: ${pair(summary.ratios.valibot.overBaseline)}: heap ${yes(decision.heapWithin)}, CPU ${yes(decision.cpuWithin)} ${decision.threshold.toFixed(2)}.`,
    `- Tree-shaken valibot (d) / validate.ts, over the baseline: ${pair(summary.ratios.valibotShaken.overBaseline)}: heap ${yes(decision.shaken.heapWithin)}, CPU ${yes(decision.shaken.cpuWithin)} ${decision.threshold.toFixed(2)}.`,
    `- Whole workflow (baseline included), valibot / validate.ts: ${pair(summary.ratios.valibot.total)}; tree-shaken: ${pair(summary.ratios.valibotShaken.total)}.`,
    '',
    ...(decision.cpuResolved
      ? []
      : [
          'The CPU differences are within the noise of this measurement: validate.ts’s CPU over the baseline was not above zero in every round, so the CPU ratios mean nothing and count as within (no measurable difference); the heap decides.',
          '',
        ]),
    `Figures are the median and, in brackets, the min–max of ${settings.rounds} rounds.`,
    '',
    '## How it was measured',
    '',
    `- ${settings.worker}; ${settings.server}.`,
    `- Per variant and round: ${settings.warmup} workflows to warm the worker, GC, heap used; then ${n} more workflows started (32 at a time) until all are asleep (cached, no activation in flight), GC, heap used. Heap per workflow is the difference / ${n}. CPU per workflow is \`process.cpuUsage()\` over those ${n} starts / ${n}: the worker, the client and the SDK’s native threads, the same in every variant, so the differences are the schemas’.`,
    '- Every workflow checks its input, registers a charge’s two signals and update (their handlers validate the payloads, except in the baseline) and sleeps 30 days.',
    '- Variant (b) imports `src/shared/schemas.ts` as the workflows do, so it also evaluates all of `src/shared/dunning.ts` (the full policy schema with its defaults, the default policy parsed at module load, the decline tables), which the port leaves out: if anything, (b) is charged more than its schemas cost.',
    '- The project bundles workflows with the SDK’s webpack in development mode (`src/embedded/bundle.ts`), which does not drop unused exports: variant (c) carries all of valibot. Variant (d) is the same entry with `valibot` aliased to a build holding only the exports the port calls (esbuild, tree-shaken), i.e. what a tree-shaking bundle step would give.',
    '- The rounds alternate the order of the variants. The machine is shared, so absolute figures are noisy; the same-round differences and ratios are the result.',
    `- Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, @temporalio/worker ${r.machine.temporalSdk}, valibot ${r.machine.valibot}. Run ${r.generatedAt}.`,
    '',
    '## Per sleeping workflow',
    '',
    '| Variant | Heap KiB / workflow | CPU ms / workflow | Wall ms / workflow | Bundle code (with the inline source map) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...VARIANTS.map((v) => {
      const s = summary.variants[v];
      return `| ${settings.variants[v]} | ${spread(s.heapKiBPerWorkflow, f1)} | ${spread(s.cpuMsPerWorkflow, f2)} | ${spread(s.wallMsPerWorkflow, f2)} | ${kib(r.bundles[v].codeBytes)} (${kib(r.bundles[v].bytes)}) |`;
    }),
    '',
    '## Over the bare workflow (the schemas’ own cost, same round)',
    '',
    '| Variant | Heap KiB / workflow | CPU ms / workflow |',
    '| --- | ---: | ---: |',
    ...VALIDATING.map((v) => {
      const s = summary.overBaseline[v];
      return `| ${settings.variants[v]} | ${spread(s.heapKiBPerWorkflow, f1)} | ${spread(s.cpuMsPerWorkflow, f2)} |`;
    }),
    ...VALIBOT.map((v) => {
      const s = summary.ratios[v].overBaseline;
      return `| ratio ${v === 'valibot' ? '(c)' : '(d)'} / (b) | ${spread(s.heap, f2)} | ${spread(s.cpu, f2)} |`;
    }),
    '',
    '## Rounds',
    '',
    `Per workflow, in the order ${VARIANTS.map((v) => settings.variants[v].slice(0, 3)).join(', ')}.`,
    '',
    '| Round | Order | Heap KiB | CPU ms | (c) / (b) over baseline: heap, CPU | (d) / (b): heap, CPU |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    ...r.rounds.map((round) => {
      const heap = VARIANTS.map((v) => f1(round.variants[v].heapKiBPerWorkflow)).join(', ');
      const cpu = VARIANTS.map((v) => f2(round.variants[v].cpuMsPerWorkflow)).join(', ');
      const ratio = (v: Valibot) =>
        `${f2(round.ratios[v].overBaseline.heap)}, ${f2(round.ratios[v].overBaseline.cpu)}`;
      return `| ${round.round} | ${round.order.join(' → ')} | ${heap} | ${cpu} | ${ratio('valibot')} | ${ratio('valibotShaken')} |`;
    }),
    '',
    `Exports kept in (d)’s valibot: ${r.shakenExports.map((e) => `\`${e}\``).join(', ')}.`,
    '',
  ];
  return lines.join('\n');
}

/** `text` as the repository's prettier configuration formats `path` (`npm run format:check`). */
export async function formatAs(text: string, path: string): Promise<string> {
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(text, { ...config, filepath: path });
}

/**
 * valibot cut to `names` (esbuild, tree-shaken, not minified), written to `dir`, for the bundle
 * of variant (d).
 */
async function shakenValibot(dir: string, names: string[]): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'valibot.shaken.mjs');
  await build({
    stdin: {
      contents: `export { ${names.join(', ')} } from 'valibot';`,
      resolveDir: REPO,
      sourcefile: 'valibot-shaken.js',
    },
    bundle: true,
    format: 'esm',
    treeShaking: true,
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** The valibot functions the port and its workflow call (`v.name(` or `v.name<T>(`). */
async function usedValibotExports(): Promise<string[]> {
  const valibot = (await import('valibot')) as Record<string, unknown>;
  const names = new Set<string>();
  for (const file of PORT_FILES)
    for (const match of readFileSync(file, 'utf8').matchAll(/\bv\.(\w+)\s*[(<]/g))
      if (typeof valibot[match[1]!] === 'function') names.add(match[1]!);
  return [...names].sort();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workflows: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '20' },
      out: { type: 'string', default: 'bench/schema-cost.json' },
      doc: { type: 'string', default: 'docs/schema-cost.md' },
      'render-only': { type: 'boolean', default: false },
    },
  });
  const out = fileURLToPath(new URL(values.out, `file://${REPO}/`));
  const doc = fileURLToPath(new URL(values.doc, `file://${REPO}/`));
  if (values['render-only']) {
    const results = JSON.parse(readFileSync(out, 'utf8')) as SchemaCostResults;
    writeFileSync(doc, await formatAs(renderMarkdown(results), doc));
    return;
  }
  const workflows = Number(values.workflows);
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);

  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const log = (message: string) => process.stderr.write(`schema-cost: ${message}\n`);
  log('bundling the entries and starting the dev server');
  const dir = mkdtempSync(join(tmpdir(), 'schema-cost-'));
  const shakenExports = await usedValibotExports();
  const shaken = await shakenValibot(dir, shakenExports);
  const bundle = (v: Variant) =>
    v === 'valibotShaken'
      ? bundleWorkflowCode({
          workflowsPath: entry(v),
          logger: new DefaultLogger('WARN'),
          // src/embedded/bundle.ts's configuration, with valibot replaced by the cut-down build.
          webpackConfigHook: (config) => ({
            ...config,
            resolve: {
              ...config.resolve,
              extensionAlias: { '.js': ['.ts', '.js'] },
              alias: { ...(config.resolve?.alias as object), valibot$: shaken },
            },
          }),
        })
      : bundleWorkflows(entry(v));
  const [env, ...built] = await Promise.all([
    createLocalTemporal({ server: { executable: devServerExecutable() } }),
    ...VARIANTS.map(bundle),
  ]);
  const code = mapOf(VARIANTS, (v) => built[VARIANTS.indexOf(v)]!.code);
  const bundles = mapOf(VARIANTS, (v) => {
    const bytes = Buffer.byteLength(code[v]);
    const map = code[v].lastIndexOf('\n//# sourceMappingURL=data:');
    return { bytes, codeBytes: map < 0 ? bytes : Buffer.byteLength(code[v].slice(0, map)) };
  });

  const done: Round[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? [...VARIANTS] : [...VARIANTS].reverse();
      const samples = {} as Record<Variant, Sample>;
      for (const variant of order) {
        samples[variant] = await measure(env, code[variant], variant, workflows, warmup);
        const s = samples[variant];
        log(
          `round ${round} ${variant}: ${f1(s.heapKiBPerWorkflow)} KiB, ${f2(s.cpuMsPerWorkflow)} ms CPU, ${f2(s.wallMsPerWorkflow)} ms wall per workflow`,
        );
      }
      done.push(toRound(round, order, samples));
    }
  } finally {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }

  const summary = summarize(done);
  const results: SchemaCostResults = {
    schemaVersion: SCHEMA_COST_VERSION,
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      temporalSdk: packageVersion('@temporalio/worker'),
      valibot: packageVersion('valibot'),
    },
    settings: {
      workflows,
      warmup,
      rounds,
      server: `Temporal dev server (temporal CLI ${DEV_SERVER_VERSION}, in-memory), on this machine`,
      worker:
        'One in-process Worker per variant and round (debugMode: workflows in this isolate; the SDK’s default reuseV8Context; maxCachedWorkflows above the count), bundled by src/embedded/bundle.ts',
      variants: LABELS,
    },
    bundles,
    shakenExports,
    rounds: done,
    summary,
    decision: decide(summary),
  };
  writeFileSync(out, await formatAs(JSON.stringify(results, null, 2), out));
  writeFileSync(doc, await formatAs(renderMarkdown(results), doc));
  log(
    `${results.decision.verdict}: valibot / validate.ts over the baseline: ${pair(summary.ratios.valibot.overBaseline)}; tree-shaken: ${pair(summary.ratios.valibotShaken.overBaseline)}`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (typeof globalThis.gc !== 'function') {
    // The heap is read after full collections: rerun this script with --expose-gc.
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, '--expose-gc', process.argv[1], ...process.argv.slice(2)],
      { stdio: 'inherit' },
    );
    process.exit(child.status ?? 1);
  }
  await main();
}
