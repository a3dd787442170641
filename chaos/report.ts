// Renders a chaos run as markdown tables: the invariants (each must be 0), the outcomes per
// scenario, what the driver did and what the checker observed, plus the seed and the command
// that replays the run.
import { existsSync, readFileSync } from 'node:fs';
import { AttackKind } from './adversarial-plan.js';
import type { CheckResult } from './check.js';
import type { DriverRecord } from './driver.js';
import type { ChaosOptions } from './options.js';
import type { ChaosPlan } from './plan.js';
import type { Disruption } from './stack.js';

export interface ChaosReport {
  options: ChaosOptions;
  check: CheckResult;
  driver: DriverRecord;
  disruptions: Disruption[];
  crashes: Record<string, number>;
  /** Wall seconds: whole run, and the drain (last order started → every charge final). */
  seconds: { total: number; drain: number; check: number };
  plan: ChaosPlan;
}

/** Whether every invariant is 0. */
export function passed(report: ChaosReport): boolean {
  return report.check.invariants.every((r) => r.count === 0);
}

/** The command line that replays `options`. */
export function replayCommand(options: ChaosOptions): string {
  const faults = options.clusterFaults;
  return [
    'npm run chaos --',
    ...(options.cluster ? ['--cluster'] : []),
    `--seed ${options.seed}`,
    `--orders ${options.orders}`,
    `--workers ${options.workers}`,
    `--rate ${options.rate}`,
    `--kills ${options.workerKills}`,
    ...(options.cluster
      ? [
          `--history-kills ${faults.historyKills}`,
          `--frontend-kills ${faults.frontendKills}`,
          `--temporal-worker-kills ${faults.temporalWorkerKills}`,
          `--postgres-restarts ${faults.postgresRestarts}`,
          ...(options.fromSource ? ['--from-source'] : []),
        ]
      : [`--restarts ${options.serverRestarts}`]),
    `--drain-seconds ${options.drainSeconds}`,
    ...(options.adversarial ? ['--adversarial'] : []),
  ].join(' ');
}

/** The disruption table's row of each kind, in this order (a kind the run did not have is left out). */
const DISRUPTION_ROWS: { kind: Disruption['kind']; label: string; detail: 'took' | 'down' }[] = [
  { kind: 'worker', label: 'worker `kill -9` + restart', detail: 'took' },
  { kind: 'dev_server', label: 'dev server `kill -9` + restart on its db file', detail: 'down' },
  { kind: 'history', label: 'history host `kill -9` + restart', detail: 'down' },
  { kind: 'frontend', label: 'frontend `kill -9` + restart', detail: 'down' },
  { kind: 'temporal_worker', label: 'Temporal worker service `kill -9` + restart', detail: 'down' },
  { kind: 'postgres', label: 'PostgreSQL stop (fast shutdown) + start', detail: 'down' },
];

/** The kinds of disruption a run of `options` has: its worker kills and its server faults. */
function disruptionKinds(options: ChaosOptions): Disruption['kind'][] {
  return options.cluster
    ? ['worker', 'history', 'frontend', 'temporal_worker', 'postgres']
    : ['worker', 'dev_server'];
}

/** One row per kind of disruption the run has: the label, how many, how long each took. */
function disruptionRows(
  options: ChaosOptions,
  disruptions: readonly Disruption[],
): (string | number)[][] {
  return DISRUPTION_ROWS.filter((r) => disruptionKinds(options).includes(r.kind)).map((r) => {
    const of = disruptions.filter((d) => d.kind === r.kind);
    const label =
      r.kind === 'worker' && options.cluster ? 'billing worker host `kill -9` + restart' : r.label;
    return [
      label,
      of.length,
      of
        .map(
          (d) => `${r.detail === 'down' ? 'down ' : ''}${((d.backAt - d.at) / 1000).toFixed(1)} s`,
        )
        .join(', '),
    ];
  });
}

/** The row of the processes that exited when nobody asked (the stack restarted them). */
function crashRow(crashes: Record<string, number>): (string | number)[] {
  return [
    'unexpected process exits (restarted)',
    Object.values(crashes).reduce((a, b) => a + b, 0),
    Object.entries(crashes)
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `${name}: ${n}`)
      .join(', '),
  ];
}

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function count<T>(items: readonly T[], keep: (item: T) => boolean): number {
  return items.filter(keep).length;
}

/** The report as markdown. */
export function renderReport(report: ChaosReport): string {
  const { options, check, driver, disruptions } = report;
  const ok = passed(report);
  const invariants = table(
    ['invariant', 'count', 'result'],
    check.invariants.map((r) => [r.name, r.count, r.count === 0 ? 'ok' : '**VIOLATED**']),
  );
  const examples = check.invariants
    .filter((r) => r.count > 0)
    .map((r) => `- ${r.name}:\n${r.examples.map((e) => `  - ${e}`).join('\n')}`)
    .join('\n');
  const outcomeNames = ['succeeded', 'failed', 'canceled', 'execution failed', 'none'];
  const outcomes = table(
    ['scenario', ...outcomeNames],
    Object.entries(check.outcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([scenario, byOutcome]) => [scenario, ...outcomeNames.map((o) => byOutcome[o] ?? 0)]),
  );
  const actions = driver.actions;
  const kinds = ['retryNow', 'retryNow+card', 'cancel', 'forgery'] as const;
  const actionTable = table(
    ['action', 'accepted', 'rejected by the workflow', 'charge already closed', 'error'],
    kinds.map((kind) => [
      kind,
      ...(['accepted', 'rejected', 'ended', 'error'] as const).map((result) =>
        count(actions, (a) => a.kind === kind && a.result === result),
      ),
    ]),
  );
  const actionErrors = kinds
    .map((kind) =>
      actions.find((a) => a.kind === kind && (a.result === 'rejected' || a.result === 'error')),
    )
    .filter((a) => a !== undefined)
    .map((a) => `- ${a.kind} ${a.orderId}: ${a.result}: ${a.detail.slice(0, 200)}`)
    .join('\n');
  const chaos = table(
    ['disruption', 'count', 'detail'],
    [
      ...disruptionRows(options, disruptions),
      crashRow(report.crashes),
      ['start calls retried (Temporal down)', driver.startRetries, ''],
    ],
  );
  const adversarial = renderAdversarial(report);
  const observations = table(
    ['observation', 'value'],
    Object.entries(check.observations).map(([name, value]) => [name, value]),
  );
  return [
    `## ${runTitle(options)} run: ${ok ? 'PASSED' : 'FAILED'} — seed ${options.seed}`,
    '',
    ...(options.cluster
      ? [
          'On the cluster: PostgreSQL (persistence and visibility), 4 history shards, frontend, matching, 2 history hosts and the worker service as separate processes, 2 receivers behind a round-robin proxy.',
          '',
        ]
      : []),
    `${options.orders} orders, ${options.workers} ${options.cluster ? 'billing worker hosts' : 'workers'}, ${options.rate} orders/s, Stripe clock ×${options.stripeClockSpeed}; ` +
      `${report.seconds.total.toFixed(0)} s in all (drain ${report.seconds.drain.toFixed(0)} s, check ${report.seconds.check.toFixed(0)} s).`,
    `Replay: \`${replayCommand(options)}\``,
    '',
    invariants,
    ...(examples ? ['', examples] : []),
    '',
    outcomes,
    '',
    actionTable,
    ...(actionErrors ? ['', 'First non-accepted action of each kind:', '', actionErrors] : []),
    ...(adversarial ? ['', adversarial] : []),
    '',
    chaos,
    '',
    observations,
    '',
  ].join('\n');
}

/** The report's heading names the kind of run (and `withChaosResults` reads it back). */
function runTitle(options: ChaosOptions): string {
  if (options.cluster) return options.adversarial ? 'Adversarial cluster chaos' : 'Cluster chaos';
  return options.adversarial ? 'Adversarial chaos' : 'Chaos';
}

/** The adversarial mix: per attack, the orders, what its steps got, and how the orders ended. */
function renderAdversarial(report: ChaosReport): string | undefined {
  const record = report.driver.adversary;
  if (!record) return undefined;
  const attacked = report.plan.orders.filter((o) => o.attack);
  const kinds = Object.values(AttackKind).filter((k) => attacked.some((o) => o.attack?.kind === k));
  const results = ['ok', 'refused', 'ended', 'missed', 'error'] as const;
  const outcomeNames = ['succeeded', 'failed', 'canceled', 'execution failed', 'none'];
  const attacks = table(
    ['attack', 'orders', ...results.map((r) => `steps ${r}`), ...outcomeNames.map((o) => `→ ${o}`)],
    kinds.map((kind) => [
      kind,
      count(attacked, (o) => o.attack?.kind === kind),
      ...results.map((r) => count(record.steps, (s) => s.attack === kind && s.result === r)),
      ...outcomeNames.map((o) => report.check.attackOutcomes[kind]?.[o] ?? 0),
    ]),
  );
  // One example of each kind of step result other than ok, so a reader sees what "refused" is.
  const seen = new Set<string>();
  const examples = record.steps
    .filter((s) => s.result !== 'ok')
    .filter((s) => {
      const key = `${s.attack} ${s.step.replace(/".*"|\b(?:pm|pi|cus|evt)_\w+/g, '…')} ${s.result}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, 24)
    .map(
      (s) =>
        `- ${s.attack} ${s.orderId}: ${s.step}: ${s.result}${s.detail ? `: ${s.detail.slice(0, 160)}` : ''}`,
    )
    .join('\n');
  const jumps = record.clockJumps.map((j) => `+${(j.ms / 3_600_000).toFixed(1)} h`).join(', ');
  return [
    `Adversarial mix: ${attacked.length} of ${report.plan.orders.length} orders attacked, ${count(attacked, (o) => o.attack?.rawFirstStart === true)} of them first started by a raw SDK start; ${record.signalsSent} signals sent directly to Temporal; Stripe's clock jumped ${record.clockJumps.length}× (${jumps || 'never'}).`,
    '',
    attacks,
    ...(examples ? ['', 'Steps that did not go through (one of each kind):', '', examples] : []),
  ].join('\n');
}

/** The report's figures as JSON (the results file next to the markdown one). */
export function reportJson(report: ChaosReport): string {
  const { options, check, driver, seconds, disruptions, crashes } = report;
  const steps: Record<string, Record<string, number>> = {};
  for (const step of driver.adversary?.steps ?? []) {
    const byResult = (steps[step.attack] ??= {});
    byResult[step.result] = (byResult[step.result] ?? 0) + 1;
  }
  return `${JSON.stringify(
    {
      passed: passed(report),
      replay: replayCommand(options),
      options,
      seconds,
      invariants: check.invariants,
      outcomes: check.outcomes,
      attackOutcomes: check.attackOutcomes,
      observations: check.observations,
      disruptions,
      crashes,
      adversary: driver.adversary && {
        attackedOrders: report.plan.orders.filter((o) => o.attack).length,
        clockJumps: driver.adversary.clockJumps,
        signalsSent: driver.adversary.signalsSent,
        signalRefusals: driver.adversary.signalRefusals,
        steps,
      },
    },
    null,
    2,
  )}\n`;
}

/** What {@link reportJson} writes, as {@link clusterRunSummary} reads it back. */
interface ReportFigures {
  passed: boolean;
  replay: string;
  options: ChaosOptions;
  seconds: ChaosReport['seconds'];
  invariants: { name: string; count: number }[];
  disruptions: Disruption[];
  crashes: Record<string, number>;
}

/**
 * The Cluster page's summary of a cluster run from its JSON results file: the verdict, orders and
 * time, the faults (each kind's count and down times), the invariant table. Nothing typed by hand.
 */
export function clusterRunSummary(jsonFile: string): string {
  const run = JSON.parse(readFileSync(jsonFile, 'utf8')) as ReportFigures;
  const { options, seconds } = run;
  if (!options.cluster) throw new Error(`${jsonFile} is not the results of a --cluster run`);
  const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
  return [
    `Rendered from \`${jsonFile}\` (the figures of \`${jsonFile.replace(/\.json$/, '.md')}\`), written by the run with \`--out\`.`,
    '',
    `**${run.passed ? 'PASSED' : 'FAILED'}**: ${options.orders} orders at ${options.rate}/s on ${options.workers} billing worker hosts, seed ${options.seed}; ` +
      `${minutes(seconds.total)} from a fresh data directory to the end of the check (drain ${seconds.drain.toFixed(0)} s, check ${seconds.check.toFixed(0)} s). ` +
      `Replay: \`${run.replay}\`.`,
    '',
    table(
      ['fault', 'count', 'detail'],
      [...disruptionRows(options, run.disruptions), crashRow(run.crashes)],
    ),
    '',
    table(
      ['invariant', 'count'],
      run.invariants.map((r) => [r.name, r.count]),
    ),
  ].join('\n');
}

/**
 * `markdown` (docs/chaos.md) with the results file `file` (markdown written by `--out`) between
 * the markers of its kind: `<!-- chaos-cluster-table:start/end -->` for a cluster run,
 * `<!-- chaos-adversarial-table:start/end -->` for an adversarial one, else
 * `<!-- chaos-table:start/end -->`. Throws when the page has no such markers.
 */
export function withChaosResults(markdown: string, file: string, where = 'docs/chaos.md'): string {
  const results = readFileSync(file, 'utf8').trim();
  const [heading = '', ...rest] = results.split('\n');
  const marker = /cluster chaos/i.test(heading)
    ? 'chaos-cluster-table'
    : heading.includes('Adversarial')
      ? 'chaos-adversarial-table'
      : 'chaos-table';
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  if (from === -1 || to < from) throw new Error(`${where} has no ${start} … ${end} block`);
  const json = file.replace(/\.md$/, '') + '.json';
  const source = existsSync(json)
    ? `Rendered from \`${file}\` (its figures as JSON in \`${json}\`), written by the run with \`--out ${file}\`.`
    : `Rendered from \`${file}\`, the report as the run printed it (no JSON next to it).`;
  const block = [start, '', source, '', `**${heading.replace(/^#+\s*/, '')}.**`, ...rest, ''].join(
    '\n',
  );
  return markdown.slice(0, from) + block + markdown.slice(to);
}
