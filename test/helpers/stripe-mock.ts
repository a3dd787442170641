// stripe-mock (Stripe's mock server, which validates every request against Stripe's OpenAPI
// spec) for the contract check: where the provisioned binary is, how to start it, and the
// replay of the calls the activities sent (src/activities/stripe-call-log.ts) against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Stripe from 'stripe';
import type { StripeCall } from '../../src/activities/stripe-call-log.js';
import { readManifest } from '../../src/embedded/servers.js';

/** The command that provisions stripe-mock (a pinned version, built with Go, cached). */
export const PROVISION_STRIPE_MOCK = 'npx tsx scripts/provision.ts --stripe-mock';

/** The provisioned stripe-mock; throws, naming the command to run, when there is none. */
export function stripeMockPath(): string {
  const path = process.env.STRIPE_MOCK_PATH ?? readManifest()?.stripeMock;
  if (path !== undefined && existsSync(path)) return path;
  throw new Error(
    `stripe-mock is not provisioned (${path ?? 'servers.json names none'}); the contract check needs it. Run: ${PROVISION_STRIPE_MOCK}`,
  );
}

/** Starts stripe-mock on free ports (HTTP and its HTTPS listener) and resolves with the HTTP port. */
export function startStripeMock(path: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['-http-addr', '127.0.0.1:', '-https-addr', '127.0.0.1:'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`stripe-mock did not start within 30 s:\n${output.join('\n')}`));
    }, 30_000);
    const onLine = (line: string): void => {
      output.push(line);
      const match = /Listening for HTTP at address: 127\.0\.0\.1:(\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A stripe-node client on a local server (stripe-mock or the simulator), no retries. */
export function localStripe(port: number): Stripe {
  return new Stripe('sk_test_contract', {
    host: '127.0.0.1',
    port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
}

/** Every call recorded in `dir`, one per shape (the first seen), with the activities that sent it. */
export function recordedCalls(dir: string): (StripeCall & { activities: string[] })[] {
  const byShape = new Map<string, StripeCall & { activities: string[] }>();
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
  for (const file of files)
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line === '') continue;
      const call = JSON.parse(line) as StripeCall;
      const known = byShape.get(call.shape);
      if (!known) byShape.set(call.shape, { ...call, activities: [call.activity] });
      else if (!known.activities.includes(call.activity)) known.activities.push(call.activity);
    }
  return [...byShape.values()].sort((a, b) => a.shape.localeCompare(b.shape));
}

/**
 * Sends each call, as recorded, to the server on `port`; returns the calls it rejected, shape →
 * message. stripe-mock answers any well-formed id, so a rejection is a path, method or
 * parameter outside Stripe's spec.
 */
export async function replayCalls(
  calls: readonly StripeCall[],
  port: number,
): Promise<Record<string, string>> {
  const stripe = localStripe(port);
  const rejected: Record<string, string> = {};
  for (const call of calls) {
    try {
      await stripe.rawRequest(call.method, call.path, call.body);
    } catch (error) {
      rejected[call.shape] = error instanceof Error ? error.message : String(error);
    }
  }
  return rejected;
}

/**
 * The suite's contract check: every call recorded in `dir` sent to stripe-mock. Returns what to
 * report (a summary, or each rejection and the command to provision stripe-mock) and whether
 * it failed.
 */
export async function checkRecordedCalls(
  dir: string,
): Promise<{ failed: boolean; report: string }> {
  const calls = recordedCalls(dir);
  if (calls.length === 0) return { failed: false, report: '' };
  let path: string;
  try {
    path = stripeMockPath();
  } catch (error) {
    return { failed: true, report: `stripe-mock contract: ${(error as Error).message}` };
  }
  const mock = await startStripeMock(path);
  try {
    const rejected = await replayCalls(calls, mock.port);
    const names = Object.keys(rejected);
    if (names.length === 0)
      return {
        failed: false,
        report: `stripe-mock contract: all ${calls.length} Stripe calls the activities sent in this run are valid by Stripe's spec`,
      };
    const lines = names.map((shape) => {
      const call = calls.find((c) => c.shape === shape);
      return `  ${shape} (${call?.activities.join(', ')}): ${rejected[shape]}`;
    });
    return {
      failed: true,
      report: `stripe-mock contract: ${names.length} of ${calls.length} Stripe calls the activities sent are outside Stripe's spec:\n${lines.join('\n')}`,
    };
  } finally {
    mock.child.kill();
  }
}
