// `npm start` brings up the embedded stack (dev server with its UI, simulator, worker), serves
// the UI, and stops cleanly on Ctrl-C, leaving nothing listening.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { BillingClient } from '../src/client/index.js';
import { freePort } from './helpers/ports.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });
}

describe('npm start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([['first run'], ['second run, on the first run’s database file']])(
    '%s: serves the Temporal UI and the webhook receiver, seeds the demo with no charge failed, then stops on SIGINT with exit code 0 and no server left behind',
    async () => {
      const [grpc, ui, sim, receiver] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
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
          WEBHOOK_PORT: String(receiver),
          STRIPE_WEBHOOK_SECRET: '',
          TEMPORAL_DB_FILE: join(dir, 'dev.db'),
          DEMO: 'on',
          DUNNING_POLICY: '',
          OUTBOX_PATH: join(dir, 'outbox.jsonl'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => output.includes('Press Ctrl-C') && resolve());
        void exited.then(() => reject(new Error(`npm start exited early:\n${output}`)));
      });

      expect(output).toContain(`Temporal UI      http://127.0.0.1:${ui}`);
      const page = await fetch(`http://127.0.0.1:${ui}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      // The webhook receiver runs too, fed by the simulator.
      expect(output).toContain(`Webhooks         http://127.0.0.1:${receiver}/webhooks/stripe`);
      const health = await fetch(`http://127.0.0.1:${receiver}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });

      // The demo: one order per story, each reaching the state its story promises.
      const client = new Client({
        connection: await Connection.connect({ address: `127.0.0.1:${grpc}` }),
      });
      const expected = ['succeeded', 'succeeded', 'dunning', 'dunning', 'processing'];
      const ids = [...output.matchAll(/^ {2}(demo-\S+)/gm)].map((m) => m[1]!);
      expect(ids).toHaveLength(5);
      const states = async () =>
        Promise.all(
          ids.map(async (id) => (await new BillingClient(client).getCharge(id).status()).state),
        );
      let seen: string[] = [];
      for (let i = 0; i < 120 && seen.join() !== expected.join(); i++) {
        seen = await states();
        if (seen.join() !== expected.join()) await new Promise((r) => setTimeout(r, 250));
      }
      expect(seen).toEqual(expected);
      // Nothing of an earlier run wakes to intents the fresh simulator does not have.
      const failed = await client.workflow.count(`ExecutionStatus = 'Failed'`);
      expect(failed.count).toBe(0);
      const charges = await client.workflow.count(`WorkflowType = 'chargeCustomer'`);
      expect(charges.count).toBe(ids.length);
      await client.connection.close();

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('durable-billing stopped');
      expect(await listening(grpc)).toBe(false);
      expect(await listening(ui)).toBe(false);
      expect(await listening(sim)).toBe(false);
      expect(await listening(receiver)).toBe(false);
    },
    120_000,
  );
});
