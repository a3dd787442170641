// `worker` and `receiver`: the long-running processes, from the installed package (compiled,
// production dependencies only), configured by the environment like `npm run worker|receiver`.
import { runReceiver } from '../webhooks/receiver.js';
import { runWorker } from '../worker.js';
import type { Command } from './command.js';
import { ExitCode } from './errors.js';

/** `worker`: the billing worker until SIGINT/SIGTERM. */
export const workerCommand: Command = {
  name: 'worker',
  summary: 'Run the billing worker (workflows and Stripe activities) until Ctrl-C.',
  description: [
    'Polls TEMPORAL_TASK_QUEUE on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE and calls Stripe with',
    'STRIPE_SECRET_KEY (or the simulator at STRIPE_API_BASE). Logs JSON lines, readable ones on a',
    'terminal; SIGINT/SIGTERM drain in-flight tasks, then it exits 0. See docs/configuration.md.',
  ].join('\n'),
  positionals: [],
  flags: {},
  examples: [
    'STRIPE_SECRET_KEY=sk_test_… durable-billing worker',
    'STRIPE_API_BASE=http://127.0.0.1:12111 durable-billing worker --address 127.0.0.1:7233',
  ],
  async run(context) {
    await runWorker(context.config());
    return ExitCode.ok;
  },
};

/** `receiver`: the standalone webhook receiver until SIGINT/SIGTERM. */
export const receiverCommand: Command = {
  name: 'receiver',
  summary: 'Run the Stripe webhook receiver (verifies, then signals Temporal) until Ctrl-C.',
  description: [
    'Serves POST /webhooks/stripe, GET /healthz and GET /metrics on WEBHOOK_HOST:WEBHOOK_PORT,',
    'verifying with STRIPE_WEBHOOK_SECRET (comma-separated during a rotation) and answering 200',
    'only once Temporal has the event. See docs/webhooks.md.',
  ].join('\n'),
  positionals: [],
  flags: {},
  examples: ['STRIPE_WEBHOOK_SECRET=whsec_… WEBHOOK_PORT=3000 durable-billing receiver'],
  async run(context) {
    await runReceiver(context.config(), () => context.io.interrupted());
    return ExitCode.ok;
  },
};
