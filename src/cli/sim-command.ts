// `sim`: the local Stripe simulator as a standalone server, like `npm run sim`
// (src/simulator/main.ts): flags, else the same STRIPE_SIM_* variables; runs until Ctrl-C.
import { startSimulator, type SimulatorOptions } from '../simulator/index.js';
import { integerFlag, type Command } from './command.js';
import { ExitCode, UsageError } from './errors.js';

/** `sim`: the Stripe simulator until SIGINT/SIGTERM. */
export const simCommand: Command = {
  name: 'sim',
  summary: 'Run the local Stripe simulator (like npm run sim) until Ctrl-C.',
  description: [
    'Serves Stripe’s v1 API for the endpoints the project uses, with Stripe’s test payment',
    'methods, idempotency, signed webhooks and fault injection; controls and the ledger are under',
    '/_sim/. Point STRIPE_API_BASE at the URL it prints. Each flag falls back to its STRIPE_SIM_*',
    'variable.',
  ].join('\n'),
  positionals: [],
  flags: {
    port: {
      type: 'string',
      value: '<port>',
      description: 'Port (STRIPE_SIM_PORT, default 12111; 0 picks one).',
    },
    host: {
      type: 'string',
      value: '<host>',
      description: 'Interface (STRIPE_SIM_HOST, default 127.0.0.1).',
    },
    seed: {
      type: 'string',
      value: '<n>',
      description: 'Fixes ids and random faults (STRIPE_SIM_SEED).',
    },
    'processing-delay-ms': {
      type: 'string',
      value: '<ms>',
      description: 'How long bank debits stay processing (STRIPE_SIM_PROCESSING_DELAY_MS).',
    },
    'webhook-url': {
      type: 'string',
      value: '<url>',
      description:
        'Deliver webhooks here, e.g. http://127.0.0.1:3000/webhooks/stripe (STRIPE_SIM_WEBHOOK_URL).',
    },
    'webhook-secret': {
      type: 'string',
      value: '<whsec_…>',
      description:
        'Signing secrets, comma-separated; signs with the first (STRIPE_SIM_WEBHOOK_SECRET).',
    },
  },
  examples: [
    'durable-billing sim',
    'durable-billing sim --port 0 --webhook-url http://127.0.0.1:3000/webhooks/stripe --webhook-secret whsec_dev',
  ],
  async run(context) {
    const env = context.io.env;
    const value = (flag: string, variable: string) => context.string(flag) ?? env[variable];
    const number = (flag: string, variable: string, max: number) => {
      const text = value(flag, variable);
      return text === undefined ? undefined : integerFlag('sim', flag, text, { min: 0, max });
    };
    const port = number('port', 'STRIPE_SIM_PORT', 65535) ?? 12111;
    const seed = number('seed', 'STRIPE_SIM_SEED', Number.MAX_SAFE_INTEGER);
    const processingDelayMs = number(
      'processing-delay-ms',
      'STRIPE_SIM_PROCESSING_DELAY_MS',
      2 ** 31,
    );
    const webhookUrl = value('webhook-url', 'STRIPE_SIM_WEBHOOK_URL');
    const secrets = (value('webhook-secret', 'STRIPE_SIM_WEBHOOK_SECRET') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (webhookUrl !== undefined && !URL.canParse(webhookUrl))
      throw new UsageError(`--webhook-url must be a URL, got "${webhookUrl}"`, 'sim');
    if (webhookUrl !== undefined && secrets.length === 0)
      throw new UsageError(
        '--webhook-secret is required with --webhook-url (webhooks are always signed)',
        'sim',
      );
    const options: SimulatorOptions = {
      port,
      host: value('host', 'STRIPE_SIM_HOST') ?? '127.0.0.1',
      ...(seed !== undefined && { seed }),
      ...(processingDelayMs !== undefined && { processingDelayMs }),
      ...(webhookUrl !== undefined && { webhook: { url: webhookUrl, secrets } }),
    };
    const sim = await startSimulator(options);
    context.out.result(
      {
        url: sim.url,
        port: sim.port,
        ledger: `${sim.url}/_sim/ledger`,
        webhookUrl: webhookUrl ?? null,
      },
      `stripe simulator listening on ${sim.url} (STRIPE_API_BASE=${sim.url}; controls under ${sim.url}/_sim/)`,
    );
    const signal = await context.io.interrupted();
    context.out.note(`stripe simulator: ${signal}, closing`);
    await sim.close();
    return ExitCode.ok;
  },
};
