// Renders a chaos run as markdown tables: the invariants (each must be 0), the outcomes per
// scenario, what the driver did and what the checker observed, plus the seed and the command
// that replays the run.
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
  return [
    'npm run chaos --',
    `--seed ${options.seed}`,
    `--orders ${options.orders}`,
    `--workers ${options.workers}`,
    `--rate ${options.rate}`,
    `--kills ${options.workerKills}`,
    `--restarts ${options.serverRestarts}`,
    `--drain-seconds ${options.drainSeconds}`,
  ].join(' ');
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
      [
        'worker `kill -9` + restart',
        count(disruptions, (d) => d.what.includes('worker')),
        disruptions
          .filter((d) => d.what.includes('worker'))
          .map((d) => `${((d.backAt - d.at) / 1000).toFixed(1)} s`)
          .join(', '),
      ],
      [
        'dev server `kill -9` + restart on its db file',
        count(disruptions, (d) => d.what.includes('dev server')),
        disruptions
          .filter((d) => d.what.includes('dev server'))
          .map((d) => `down ${((d.backAt - d.at) / 1000).toFixed(1)} s`)
          .join(', '),
      ],
      [
        'unexpected process exits (restarted)',
        Object.values(report.crashes).reduce((a, b) => a + b, 0),
        Object.entries(report.crashes)
          .filter(([, n]) => n > 0)
          .map(([name, n]) => `${name}: ${n}`)
          .join(', '),
      ],
      ['start calls retried (Temporal down)', driver.startRetries, ''],
    ],
  );
  const observations = table(
    ['observation', 'value'],
    Object.entries(check.observations).map(([name, value]) => [name, value]),
  );
  return [
    `## Chaos run: ${ok ? 'PASSED' : 'FAILED'} — seed ${options.seed}`,
    '',
    `${options.orders} orders, ${options.workers} workers, ${options.rate} orders/s, Stripe clock ×${options.stripeClockSpeed}; ` +
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
    '',
    chaos,
    '',
    observations,
    '',
  ].join('\n');
}
