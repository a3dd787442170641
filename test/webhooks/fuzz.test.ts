// Fuzz: ≥ 10,000 random and mutated webhook requests (seeded PRNG) against the real receiver
// over HTTP while Temporal is up: every one is answered 400 or 413, the receiver never fails,
// and not one signal leaves it (counted by a client interceptor, and checked in history).
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeWorkflowId } from '../../src/shared/ids.js';
import { createStripeWebhookHandler } from '../../src/webhooks/handler.js';
import { startWebhookServer, type WebhookServer } from '../../src/webhooks/server.js';
import {
  BODY_LIMIT_BYTES,
  signalledEventIds,
  startWebhookStack,
  type WebhookStack,
} from './stack.js';

const SECRETS = ['whsec_fuzz_current_secret', 'whsec_fuzz_previous_secret'];
const CASES = 10_000;
const CONCURRENCY = 16;

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let stack: WebhookStack;
let receiver: WebhookServer;
let signalsSent = 0;
let workflowId: string;
let paymentIntentId: string;

beforeAll(async () => {
  stack = await startWebhookStack('fuzz', { secrets: SECRETS });
  const counting: WorkflowClientInterceptor = {
    signal: (input, next) => (signalsSent++, next(input)),
    signalWithStart: (input, next) => (signalsSent++, next(input)),
  };
  const client = new Client({
    connection: stack.client.connection,
    namespace: stack.server.namespace,
    interceptors: { workflow: [counting] },
  });
  const handler = createStripeWebhookHandler({
    client,
    secrets: SECRETS,
    taskQueue: stack.taskQueue,
    unmatchedWorkflowId: stack.unmatchedWorkflowId,
    bodyLimitBytes: BODY_LIMIT_BYTES,
  });
  receiver = await startWebhookServer({ handler, port: 0, bodyLimitBytes: BODY_LIMIT_BYTES });
  const input = stack.order('pm_usBankAccount_success');
  const handle = await stack.chargeUntil(input, 'processing');
  await stack.sim.flushWebhooks();
  workflowId = chargeWorkflowId(input.orderId);
  paymentIntentId = (await handle.status()).paymentIntentId!;
});
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

interface Case {
  kind: string;
  body: string | Buffer;
  signatures: string[];
}

function generator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const printable = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join('');
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (payload: string, secret = SECRETS[int(2)]!, timestamp = now()) =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

  const validEvent = () => ({
    id: `evt_fuzz_${hex(12)}`,
    object: 'event',
    type: pick([
      'payment_intent.succeeded',
      'payment_intent.processing',
      'payment_method.attached',
      'customer.updated',
    ]),
    created: now(),
    data: {
      object: {
        id: paymentIntentId,
        object: 'payment_intent',
        customer: stack.customerId,
        metadata: { workflow_id: workflowId },
      },
    },
  });

  /** A change that makes a valid event fail the schema. */
  const breakers: ((e: Record<string, unknown>) => void)[] = [
    (e) => delete e['id'],
    (e) => (e['id'] = pick(['', 'evt', 'ch_123', 42, null, 'evt_"quote', `evt_${printable(5)}!`])),
    (e) => (e['object'] = pick(['events', '', 1, null, 'payment_intent'])),
    (e) => delete e['type'],
    (e) => (e['type'] = pick(['', 'Payment_Intent.Succeeded', 'a b', 7, 'x'.repeat(300), null])),
    (e) => (e['created'] = pick([-1, 1.5, '1700000000', null, 'now', 2 ** 64])),
    (e) => delete e['data'],
    (e) =>
      (e['data'] = pick([null, 'x', [], { object: null }, { object: 'pi_1' }, { object: [] }, {}])),
    (e) => (e['account'] = pick(['', 5, null, {}])),
  ];

  const randomJson = (depth = 0): unknown => {
    switch (int(depth > 3 ? 4 : 7)) {
      case 0:
        return random() * 1e6 - 5e5;
      case 1:
        return printable(int(20));
      case 2:
        return pick([true, false, null]);
      case 3:
        return int(1e9);
      case 4:
        return Array.from({ length: int(4) }, () => randomJson(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: int(5) }, () => [
            pick(['id', 'object', 'type', 'data', 'created', printable(4)]),
            randomJson(depth + 1),
          ]),
        );
    }
  };

  const mutateBytes = (text: string): string => {
    const chars = [...text];
    const at = int(chars.length);
    const original = text;
    switch (int(3)) {
      case 0:
        chars[at] = String.fromCharCode(32 + int(95));
        break;
      case 1:
        chars.splice(at, 0, printable(1 + int(3)));
        break;
      default:
        chars.splice(at, 1 + int(3));
    }
    const mutated = chars.join('');
    return mutated === original ? `${original} ` : mutated;
  };

  /** A header that can never verify for `payload`. */
  const brokenHeader = (payload: string): string => {
    const t = now();
    const good = sign(payload, SECRETS[0], t);
    return pick([
      () => '',
      () => printable(1 + int(200)),
      () => `t=${t}`,
      () => `v1=${hex(64)}`,
      () => `t=${t},v1=${hex(64)}`,
      () => `t=${t},v1=${hex(64)},v0=${hex(64)}`,
      () => good.replace(/v1=[0-9a-f]+/, `v1=${hex(64)}`),
      () => good.replace(/v1=[0-9a-f]+/, 'v1='),
      () => good.replace(/t=\d+/, `t=${t + 1 + int(5)}`),
      () => good.replace(/t=\d+/, `t=${printable(6)}`),
      () => `${good},t=${t}`,
      () => good.toUpperCase(),
      () => good.replace(/,/g, ';'),
      () => `t=${t},v1=${'a'.repeat(int(3000))}`,
      () => sign(payload, `whsec_${hex(24)}`, t),
      () => sign(payload, SECRETS[0], t - 301 - int(1e6)),
      () => sign(payload, SECRETS[0], t + 301 + int(1e6)),
    ])();
  };

  return (): Case => {
    const roll = int(100);
    if (roll < 15) {
      const body = Buffer.from(Array.from({ length: int(2048) }, () => int(256)));
      return {
        kind: 'random bytes',
        body,
        signatures: int(2) ? [brokenHeader(body.toString('latin1'))] : [],
      };
    }
    if (roll < 30) {
      const body = JSON.stringify(randomJson());
      return { kind: 'random JSON, signed', body, signatures: [sign(body)] };
    }
    if (roll < 50) {
      const event = validEvent() as Record<string, unknown>;
      pick(breakers)(event);
      const body = JSON.stringify(event);
      return { kind: 'broken event, signed', body, signatures: [sign(body)] };
    }
    if (roll < 70) {
      const body = JSON.stringify(validEvent());
      return {
        kind: 'valid event, mutated after signing',
        body: mutateBytes(body),
        signatures: [sign(body)],
      };
    }
    if (roll < 95) {
      const body = JSON.stringify(validEvent());
      return { kind: 'valid event, broken header', body, signatures: [brokenHeader(body)] };
    }
    if (roll < 99) {
      // Joined into one header by HTTP, never with a valid signature among them (several v1
      // values are legitimate in Stripe's scheme: a good one among them would verify).
      const body = JSON.stringify(validEvent());
      return {
        kind: 'several headers',
        body,
        signatures: [brokenHeader(body), brokenHeader(body)],
      };
    }
    const body = JSON.stringify({ ...validEvent(), pad: 'x'.repeat(BODY_LIMIT_BYTES) });
    return { kind: 'oversized, signed', body, signatures: [sign(body)] };
  };
}

/** Sends raw bytes and returns the status line's code (node's parser answers malformed HTTP itself). */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('end', () => resolve(answer.slice(9, 12)));
    socket.on('error', reject);
    socket.end(bytes);
  });
}

describe('webhook receiver fuzz', () => {
  it(`${CASES} random and mutated requests: all 400/413, no 5xx, no crash, no signal`, async () => {
    const next = generator(prng(0x5eed));
    const statuses = new Map<number, number>();
    const unexpected: { kind: string; status: number }[] = [];
    const answeredByKind = new Map<string, number>();
    let sent = 0;
    const started = performance.now();
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const url = new URL(receiver.webhookUrl);
    const post = (c: Case) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST' },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.setHeader('content-type', 'application/json');
        if (c.signatures.length > 0) req.setHeader('stripe-signature', c.signatures);
        req.end(c.body);
      });
    async function lane(): Promise<void> {
      while (sent < CASES) {
        sent++;
        const c = next();
        const status = await post(c);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        answeredByKind.set(c.kind, (answeredByKind.get(c.kind) ?? 0) + 1);
        if (status !== 400 && status !== 413) unexpected.push({ kind: c.kind, status });
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    console.log(
      `fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s)`,
      Object.fromEntries(statuses),
    );

    const malformedHttp = [
      'POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n',
      'GARBAGE\r\n\r\n',
      `POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nStripe-Signature: ${'a'.repeat(20_000)}\r\n\r\n`,
    ];
    for (const bytes of malformedHttp)
      expect(['400', '431']).toContain(await rawRequest(receiver.port, bytes));

    expect(unexpected).toEqual([]);
    // Every case was answered, and every kind of case the generator makes was sent, many times.
    const answered = [...answeredByKind.values()].reduce((a, b) => a + b, 0);
    expect(answered).toBe(CASES);
    expect([...answeredByKind.keys()].sort()).toEqual(
      [
        'random bytes',
        'random JSON, signed',
        'broken event, signed',
        'valid event, mutated after signing',
        'valid event, broken header',
        'several headers',
        'oversized, signed',
      ].sort(),
    );
    for (const [kind, count] of answeredByKind) expect(count, kind).toBeGreaterThan(CASES / 100);
    expect(signalsSent).toBe(0);
    const signalled = await signalledEventIds(stack.client, workflowId);
    expect(signalled.some((id) => id.startsWith('evt_fuzz_'))).toBe(false);
    const unmatched = await stack.unmatched();
    expect(unmatched?.entries.some((e) => e.signal.id.startsWith('evt_fuzz_')) ?? false).toBe(
      false,
    );
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
  });
});
