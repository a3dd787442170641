// Notifications exactly once across hosts: two worker processes, each sending one notification
// several times at the same instant through the outbox and the email notifier, on one real
// PostgreSQL (the cluster's, NOTIFICATIONS_DATABASE_URL) and one SMTP server. One send in all is
// first, one row per id, and the SMTP server receives the email once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultPorts,
  NOTIFICATIONS_DATABASE,
  startCluster,
  type Cluster,
} from '../../scripts/cluster-stack.js';
import { NOTIFICATIONS_TABLE, PostgresSentLog } from '../../src/notifications/index.js';
import type { CustomerNotification } from '../../src/shared/notifications.js';
import { startSmtpServer, type SmtpFixture } from '../notifications/smtp-fixture.js';

const HOST = fileURLToPath(new URL('./notify-host.ts', import.meta.url));
let cluster: Cluster | undefined;
let smtp: SmtpFixture;
let dataDir: string;
let databaseUrl: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'durable-billing-notify-'));
  const ports = { ...defaultPorts(), postgres: 20_000 + Math.floor(Math.random() * 10_000) };
  [cluster, smtp] = await Promise.all([
    startCluster({ dataDir, ports, postgresOnly: true }),
    startSmtpServer(),
  ]);
  // The stack creates the workers' notification database beside Temporal's.
  databaseUrl = cluster.databaseUrl(NOTIFICATIONS_DATABASE);
});

afterAll(async () => {
  await smtp?.close();
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function host(env: Record<string, string>): Promise<{ outboxFirst: number; emailFirst: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOST], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as { outboxFirst: number; emailFirst: number })
        : reject(new Error(`notify-host exited ${code}: ${stderr}`)),
    );
  });
}

describe('notifications on PostgreSQL (NOTIFICATIONS_DATABASE_URL)', () => {
  it('two worker processes racing on one notification: one first send in all, one email, one row', async () => {
    const notification: CustomerNotification = {
      id: `charge:race-${Date.now()}/notify/1/payment_failed`,
      kind: 'payment_failed',
      orderId: 'race',
      customerId: 'cus_race',
      amount: 1999,
      currency: 'usd',
      attempt: 1,
    };
    const env = {
      NOTIFICATIONS_DATABASE_URL: databaseUrl,
      SMTP_URL: smtp.url,
      NOTIFICATION: JSON.stringify(notification),
      SENDS: '8',
      // Both processes are up (tsx loads in about a second) before either sends.
      START_AT: String(Date.now() + 4000),
    };
    const [a, b] = await Promise.all([host(env), host(env)]);
    expect(a.outboxFirst + b.outboxFirst).toBe(1);
    expect(a.emailFirst + b.emailFirst).toBe(1);
    const emailId = `${notification.id}/email`;
    expect(
      smtp.received.filter((m) => m.headers.get('x-notification-id') === emailId),
    ).toHaveLength(1);

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const rows = await db.query<{ id: string; state: string; channel: string }>(
      `SELECT id, state, channel FROM ${NOTIFICATIONS_TABLE} WHERE id = ANY($1) ORDER BY id`,
      [[notification.id, emailId]],
    );
    await db.end();
    expect(rows.rows).toEqual([
      { id: notification.id, state: 'sent', channel: 'outbox' },
      { id: emailId, state: 'sent', channel: 'email' },
    ]);
  }, 60_000);

  it('a claim lapses after its lease (judged by the database clock), and a release frees it at once', async () => {
    const log = new PostgresSentLog(databaseUrl);
    try {
      const id = `lease-${Date.now()}`;
      const first = await log.claim(id, 300);
      expect(first.outcome).toBe('claimed');
      expect((await log.claim(id, 300)).outcome).toBe('busy');
      await new Promise((resolve) => setTimeout(resolve, 400));
      const second = await log.claim(id, 60_000);
      expect(second.outcome).toBe('claimed');
      if (second.outcome !== 'claimed') return;
      await log.release(id, second.token, 'test');
      expect((await log.claim(id, 60_000)).outcome).toBe('claimed');
    } finally {
      await log.close();
    }
  });
});
