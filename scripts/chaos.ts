// `npm run chaos`: drives orders through the real stack under faults and disruptions (and, with
// --adversarial, callers that bypass the client), checks the invariants independently, prints
// the table and the seed; exits 1 on any violation. --out FILE also writes the report there (and
// its JSON next to it); `--docs FILE` (no run) puts such a results file into docs/chaos.md.
// Flags: --orders --seed --workers --drain-seconds --rate --kills --restarts --adversarial --refunds
// --out --keep --quiet; --cluster (the production shape, chaos/cluster-stack.ts) with
// --history-kills --frontend-kills --temporal-worker-kills --postgres-restarts --from-source.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseChaosArgs } from '../chaos/options.js';
import { killChildren } from '../chaos/processes.js';
import { passed, renderReport, reportJson, withChaosResults } from '../chaos/report.js';
import { runChaos } from '../chaos/run.js';

/** Where `--docs` renders a results file: the Chaos page. */
const CHAOS_PAGE = 'docs/chaos.md';

async function main(): Promise<number> {
  const docs = process.argv.indexOf('--docs');
  if (docs !== -1) {
    const file = process.argv[docs + 1];
    if (!file) throw new Error('--docs needs the results file a run wrote with --out');
    writeFileSync(CHAOS_PAGE, withChaosResults(readFileSync(CHAOS_PAGE, 'utf8'), file));
    process.stderr.write(`${CHAOS_PAGE}: the chaos results of ${file}\n`);
    return 0;
  }
  const options = parseChaosArgs(process.argv.slice(2));
  const started = Date.now();
  const progress = (message: string) => {
    if (options.verbose)
      process.stderr.write(
        `[chaos ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`,
      );
  };
  progress(`seed ${options.seed}${options.adversarial ? ' (adversarial)' : ''}`);
  const report = await runChaos(options, progress);
  const markdown = renderReport(report);
  process.stdout.write(markdown);
  if (options.out) {
    writeFileSync(options.out, markdown);
    writeFileSync(options.out.replace(/\.md$/, '') + '.json', reportJson(report));
    progress(`results written to ${options.out}`);
  }
  return passed(report) ? 0 : 1;
}

// Interrupted: take the dev server (or the cluster), workers and receivers down with us.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
process.once('exit', killChildren);

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('chaos run could not complete:', error);
    process.exit(2);
  },
);
