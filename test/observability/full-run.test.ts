// A full `npm start` run at LOG_LEVEL=debug with secrets configured: the demo's webhooks, a forged
// one and one carrying a copied valid signature. The logs are JSON lines and hold none of the
// secrets; the receiver's /metrics counts each outcome; the worker's endpoint has temporal_ metrics.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { metricValue } from './prometheus.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const random = (bytes: number) => randomBytes(bytes).toString('base64url').replace(/[-_]/g, 'x');

/** A Stripe event body the receiver accepts, about a PaymentIntent no charge owns. */
function eventBody(id: string): string {
  return JSON.stringify({
    id,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'pi_observability_unknown', object: 'payment_intent', metadata: {} } },
  });
}

describe('a full npm start run', () => {
  it('logs JSON lines without any configured secret or signature, and counts webhooks by outcome in /metrics', async () => {
    const [grpc, ui, sim, receiverPort, metricsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const webhookSecret = `whsec_${random(24)}`;
    const apiKey = `tmprl_${random(24)}`;
    const smtpPassword = `smtp${random(12)}`;
    const dir = mkdtempSync(join(tmpdir(), 'db-observability-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts'], {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: '',
        STRIPE_SECRET_KEY: '',
        STRIPE_API_BASE: '',
        TEMPORAL_PORT: String(grpc),
        TEMPORAL_UI_PORT: String(ui),
        STRIPE_SIM_PORT: String(sim),
        WEBHOOK_PORT: String(receiverPort),
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'debug',
        STRIPE_WEBHOOK_SECRET: webhookSecret,
        // env-config sends the key on every call; without TLS the dev server ignores it.
        TEMPORAL_API_KEY: apiKey,
        TEMPORAL_TLS: 'false',
        // Parsed and held, never used (NOTIFIER=outbox): its password must not leak either.
        SMTP_URL: `smtp://billing:${smtpPassword}@127.0.0.1:2525`,
        NOTIFIER: 'outbox',
        TEMPORAL_DB_FILE: join(dir, 'dev.db'),
        OUTBOX_PATH: join(dir, 'outbox.jsonl'),
        DEMO: 'on',
        DUNNING_POLICY: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let digest = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => stdout.includes('Press Ctrl-C') && resolve());
        void exited.then(() => reject(new Error(`npm start exited early:\n${stdout}${stderr}`)));
      });
      const receiver = `http://127.0.0.1:${receiverPort}`;
      const scrape = async () => (await fetch(`${receiver}/metrics`)).text();

      // The demo's webhooks reach the receiver (the simulator signs them with the secret).
      let metrics = await scrape();
      for (let i = 0; i < 200 && metricValue(metrics, 'billing_webhook_verified_total') < 3; i++) {
        await new Promise((r) => setTimeout(r, 100));
        metrics = await scrape();
      }
      const demoVerified = metricValue(metrics, 'billing_webhook_verified_total');
      expect(demoVerified).toBeGreaterThanOrEqual(3);

      // A forged signature, a valid signature copied onto another body, a stale one, none.
      const body = eventBody(`evt_obs_${random(8)}`);
      const valid = Stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: webhookSecret,
      });
      digest = /v1=([0-9a-f]+)/.exec(valid)?.[1] ?? '';
      expect(digest).toHaveLength(64);
      const forged = Stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: `whsec_${random(24)}`,
      });
      const stale = Stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: webhookSecret,
        timestamp: Math.floor(Date.now() / 1000) - 3600,
      });
      const post = async (payload: string, headers: Record<string, string>) =>
        (
          await fetch(`${receiver}/webhooks/stripe`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: payload,
          })
        ).status;
      expect(
        await post(body, { 'stripe-signature': forged, authorization: `Bearer ${apiKey}` }),
      ).toBe(400);
      expect(await post(eventBody('evt_obs_other'), { 'stripe-signature': valid })).toBe(400);
      expect(await post(body, { 'stripe-signature': stale })).toBe(400);
      expect(await post(body, {})).toBe(400);
      expect(await post(body, { 'stripe-signature': valid })).toBe(200);

      metrics = await scrape();
      const rejected = (reason: string) =>
        metricValue(metrics, 'billing_webhook_rejected_total', { reason });
      expect(rejected('signature_mismatch')).toBe(2);
      expect(rejected('timestamp_too_old')).toBe(1);
      expect(rejected('missing_signature')).toBe(1);
      expect(rejected('malformed_body')).toBe(0);
      expect(metricValue(metrics, 'billing_webhook_verified_total')).toBeGreaterThan(demoVerified);
      expect(
        metricValue(metrics, 'billing_webhook_unmatched_total', { kind: 'payment_intent' }),
      ).toBeGreaterThanOrEqual(1);
      // The demo charges' own confirms caused their intents' events: answered, not signalled.
      expect(
        metricValue(metrics, 'billing_webhook_routed_total', {
          kind: 'payment_intent',
          delivery: 'answered',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        metricValue(metrics, 'billing_webhook_ack_duration_seconds_count', { status: '400' }),
      ).toBe(4);
      expect(metricValue(metrics, 'billing_webhook_received_total')).toBe(
        metricValue(metrics, 'billing_webhook_verified_total') + 4,
      );

      // The Temporal Runtime's Prometheus endpoint (METRICS_PORT) serves the SDK's worker metrics.
      const worker = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(worker).toMatch(/^temporal_\w+/m);
      expect(worker).toMatch(
        /^temporal_workflow_completed\b|^temporal_activity_execution_latency/m,
      );
    } finally {
      child.kill('SIGINT');
      // A shutdown that hangs fails the test instead of leaving the stack running.
      const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(deadline);
      rmSync(dir, { recursive: true, force: true });
      expect(code).toBe(0);
    }

    const output = stdout + stderr;
    expect(digest).toHaveLength(64);
    for (const secret of [webhookSecret, apiKey, smtpPassword, digest])
      expect(output).not.toContain(secret);
    expect(output).not.toMatch(/sk_(test|live)_(?!\[redacted\])/);
    expect(output).not.toMatch(/whsec_(?!\[redacted\])/);

    // stderr carries the logs: JSON lines, each with a level and a message; debug is on.
    const lines = stderr.split('\n').filter((line) => line.trim() !== '');
    const logs = lines.map((line) => JSON.parse(line) as { level?: unknown; msg?: unknown });
    for (const log of logs) {
      expect(typeof log.level).toBe('string');
      expect(typeof log.msg).toBe('string');
    }
    expect(logs.some((log) => log.level === 'debug')).toBe(true);
    expect(logs.some((log) => log.msg === 'webhook rejected')).toBe(true);
    expect(logs.some((log) => log.msg === 'webhook routed')).toBe(true);
  }, 120_000);
});
