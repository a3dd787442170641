// `npm run cluster`: the production shape on this machine (scripts/cluster-stack.ts): Temporal from
// go.temporal.io/server as separate services on Debian's PostgreSQL, `durable-billing setup`, two
// billing workers, two receivers behind a round-robin proxy, and the Stripe simulator. Prints every
// address, runs until Ctrl-C, then stops every process it started. Flags: --frontend-port <port>
// (default 7233), --namespace <name> (default `default`), --workers <n> (default 2), --data-dir <dir>,
// --from-source (workers and receivers through tsx from src/, even when a dist/ build exists).
import { parseArgs } from 'node:util';
import { killChildren } from '../chaos/processes.js';
import { defaultPorts, startCluster } from './cluster-stack.js';

const { values } = parseArgs({
  options: {
    'frontend-port': { type: 'string' },
    namespace: { type: 'string' },
    workers: { type: 'string' },
    'data-dir': { type: 'string' },
    'from-source': { type: 'boolean' },
  },
  strict: true,
});

function integer(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > 65535)
    throw new Error(`--${flag} must be a whole number from 1 to 65535, got "${text}"`);
  return value;
}

/** Resolves at the first SIGINT/SIGTERM; one that comes while starting kills what has started. */
let up = false;
const interrupted = new Promise<void>((resolve) => {
  const stop = () => {
    if (!up) {
      killChildren();
      process.exit(130);
    }
    resolve();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});

async function main(): Promise<void> {
  const started = Date.now();
  const progress = (line: string) =>
    process.stderr.write(
      `[cluster ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`,
    );
  const cluster = await startCluster({
    ports: defaultPorts(integer('frontend-port', values['frontend-port'], 7233)),
    workers: integer('workers', values.workers, 2),
    ...(values.namespace !== undefined && { namespace: values.namespace }),
    ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
    fromSource: values['from-source'] === true,
    progress,
  });
  const a = cluster.addresses;
  const rows: [string, string][] = [
    ['Temporal frontend (gRPC)', a.temporal],
    ['Temporal frontend (HTTP)', a.temporalHttp],
    ['namespace / task queue', `${a.namespace} / ${a.taskQueue}`],
    ['Temporal services', cluster.temporal.map((s) => s.name).join(', ')],
    [
      'PostgreSQL',
      `${a.postgres} (user temporal, password temporal; databases temporal, temporal_visibility, billing_notifications)`,
    ],
    ['webhook URL (round robin)', a.webhookUrl],
    ['receivers', a.receivers.join(', ')],
    ['billing workers', `${cluster.workers.length} processes`],
    ['Stripe simulator', `${a.simulator} (STRIPE_API_BASE; ledger at /_sim/ledger)`],
    ['webhook secret', cluster.webhookSecret],
    ['logs', a.logs],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(
    [
      '',
      `cluster up in ${((Date.now() - started) / 1000).toFixed(0)} s`,
      ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
      '',
      'Try:',
      `  temporal operator cluster describe --address ${a.temporal}`,
      `  CUSTOMER=$(curl -s -u sk_test_cluster: ${a.simulator}/v1/customers -d email=demo@example.com | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')`,
      `  temporal workflow execute --address ${a.temporal} --namespace ${a.namespace} --task-queue ${a.taskQueue} \\`,
      `    --type chargeCustomer --workflow-id charge:order-1 \\`,
      `    --input "{\\"orderId\\":\\"order-1\\",\\"customerId\\":\\"$CUSTOMER\\",\\"amount\\":1999,\\"currency\\":\\"usd\\",\\"paymentMethodId\\":\\"pm_card_visa\\"}"`,
      '',
      'Ctrl-C stops every process.',
      '',
    ].join('\n'),
  );
  up = true;
  await interrupted;
  progress('stopping');
  await cluster.stop();
  progress('stopped');
}

// Whatever happens, no child outlives this process.
process.once('exit', killChildren);
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
