// The `/_sim/` control API: faults, webhook target/faults/flush, the simulated clock, the search
// lag, the ledger, the event log, the request log, refund settlement and rules, and the bank's
// side of disputes over HTTP (JSON in, JSON out, no API key), for `npm run sim` users and
// out-of-process test suites.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { SimControlError } from './errors.js';
import { faultRuleSchema } from './faults.js';
import { closeDisputeSchema, openDisputeSchema } from './resources/disputes.js';
import { refundRuleSchema, refundSettlementSchema } from './resources/refunds.js';
import { requestLogQuerySchema } from './request-log.js';
import { matchPath } from './router.js';
import { searchLagMsSchema } from './search.js';
import type { Simulator } from './simulator.js';
import { webhookFaultRuleSchema } from './webhooks.js';

const targetSchema = z
  .object({
    url: z.url(),
    secrets: z.array(z.string().min(1)).min(1),
    enabledEvents: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
const advanceSchema = z.object({ ms: z.number().int().min(0) }).strict();
const searchLagSchema = z.object({ ms: searchLagMsSchema }).strict();
const authenticateSchema = z
  .object({ outcome: z.enum(['succeed', 'fail']).default('succeed') })
  .strict();

type Handler = (
  sim: Simulator,
  body: unknown,
  params: Record<string, string>,
  query: URLSearchParams,
) => Promise<[number, unknown]> | [number, unknown];

const routes: { method: string; pattern: string; handler: Handler }[] = [
  { method: 'GET', pattern: '/_sim/health', handler: () => [200, { ok: true }] },
  { method: 'GET', pattern: '/_sim/ledger', handler: (sim) => [200, sim.ledger()] },
  { method: 'GET', pattern: '/_sim/events', handler: (sim) => [200, { data: sim.events() }] },
  {
    method: 'GET',
    pattern: '/_sim/requests',
    handler: (sim, _body, _params, query) => [
      200,
      { requests: sim.requests(requestLogQuerySchema.parse(Object.fromEntries(query))) },
    ],
  },
  { method: 'GET', pattern: '/_sim/faults', handler: (sim) => [200, { data: sim.faults.list() }] },
  {
    method: 'POST',
    pattern: '/_sim/faults',
    handler: (sim, body) => [200, { id: sim.faults.add(faultRuleSchema.parse(body)) }],
  },
  {
    method: 'DELETE',
    pattern: '/_sim/faults',
    handler: (sim) => (sim.faults.clear(), [200, { cleared: true }]),
  },
  {
    method: 'POST',
    pattern: '/_sim/webhooks/faults',
    handler: (sim, body) => [
      200,
      { id: sim.webhookFaults.add(webhookFaultRuleSchema.parse(body)) },
    ],
  },
  {
    method: 'DELETE',
    pattern: '/_sim/webhooks/faults',
    handler: (sim) => (sim.webhookFaults.clear(), [200, { cleared: true }]),
  },
  {
    method: 'POST',
    pattern: '/_sim/webhooks/target',
    handler: (sim, body) => (sim.setWebhookTarget(targetSchema.parse(body)), [200, { ok: true }]),
  },
  {
    method: 'DELETE',
    pattern: '/_sim/webhooks/target',
    handler: (sim) => (sim.setWebhookTarget(undefined), [200, { ok: true }]),
  },
  {
    method: 'POST',
    pattern: '/_sim/webhooks/flush',
    handler: async (sim) => (await sim.flushWebhooks(), [200, { ok: true }]),
  },
  {
    method: 'GET',
    pattern: '/_sim/webhooks/deliveries',
    handler: (sim) => [200, { data: sim.webhookDeliveries() }],
  },
  { method: 'GET', pattern: '/_sim/clock', handler: (sim) => [200, { now: sim.now() }] },
  {
    method: 'POST',
    pattern: '/_sim/clock/advance',
    handler: (sim, body) => (
      sim.advanceTime(advanceSchema.parse(body).ms),
      [200, { now: sim.now() }]
    ),
  },
  {
    method: 'GET',
    pattern: '/_sim/search/lag',
    handler: (sim) => [200, { ms: sim.searchLagMs() }],
  },
  {
    method: 'POST',
    pattern: '/_sim/search/lag',
    handler: (sim, body) => (
      sim.setSearchLagMs(searchLagSchema.parse(body).ms),
      [200, { ms: sim.searchLagMs() }]
    ),
  },
  {
    method: 'POST',
    pattern: '/_sim/payment_intents/:id/authenticate',
    handler: (sim, body, params) => {
      const done = sim.authenticate(params.id ?? '', authenticateSchema.parse(body ?? {}).outcome);
      return done
        ? [200, { ok: true }]
        : [409, { error: 'the PaymentIntent is not in requires_action' }];
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/refunds/:id/settle',
    handler: (sim, body, params) => [
      200,
      sim.refunds.settle(params.id ?? '', refundSettlementSchema.parse(body)),
    ],
  },
  {
    method: 'GET',
    pattern: '/_sim/refunds/rules',
    handler: (sim) => [200, { data: sim.refunds.rules.list() }],
  },
  {
    method: 'POST',
    pattern: '/_sim/refunds/rules',
    handler: (sim, body) => [200, { id: sim.refunds.rules.add(refundRuleSchema.parse(body)) }],
  },
  {
    method: 'DELETE',
    pattern: '/_sim/refunds/rules',
    handler: (sim) => (sim.refunds.rules.clear(), [200, { cleared: true }]),
  },
  {
    method: 'POST',
    pattern: '/_sim/disputes',
    handler: (sim, body) => [200, sim.disputes.open(openDisputeSchema.parse(body))],
  },
  {
    method: 'POST',
    pattern: '/_sim/disputes/:id/close',
    handler: (sim, body, params) => [
      200,
      sim.disputes.close(params.id ?? '', closeDisputeSchema.parse(body).status),
    ],
  },
];

/** Serves a `/_sim/` request. */
export async function serveControl(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  rawBody: string,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = (req.method ?? 'GET').toUpperCase();
  let status = 404;
  let payload: unknown = { error: `no control endpoint ${method} ${url.pathname}` };
  for (const route of routes) {
    const params = route.method === method ? matchPath(route.pattern, url.pathname) : undefined;
    if (!params) continue;
    try {
      const body: unknown = rawBody.trim() === '' ? {} : JSON.parse(rawBody);
      [status, payload] = await route.handler(sim, body, params, url.searchParams);
    } catch (error) {
      status = error instanceof SimControlError ? error.status : 400;
      payload = {
        error:
          error instanceof z.ZodError
            ? z.prettifyError(error)
            : error instanceof Error
              ? error.message
              : String(error),
      };
    }
    break;
  }
  const text = `${JSON.stringify(payload, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}
