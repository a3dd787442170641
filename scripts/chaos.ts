// `npm run chaos`: drives orders through the real stack under faults and disruptions, checks
// the invariants independently, prints the table and the seed; exits 1 on any violation.
// Flags: --orders --seed --workers --drain-seconds --rate --kills --restarts --keep --quiet.
import { parseChaosArgs } from '../chaos/options.js';
import { killChildren } from '../chaos/processes.js';
import { passed, renderReport } from '../chaos/report.js';
import { runChaos } from '../chaos/run.js';

async function main(): Promise<number> {
  const options = parseChaosArgs(process.argv.slice(2));
  const started = Date.now();
  const progress = (message: string) => {
    if (options.verbose)
      process.stderr.write(
        `[chaos ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`,
      );
  };
  progress(`seed ${options.seed}`);
  const report = await runChaos(options, progress);
  process.stdout.write(renderReport(report));
  return passed(report) ? 0 : 1;
}

// Interrupted: take the dev server, workers and receiver down with us.
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
