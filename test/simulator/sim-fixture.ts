// Shared set-up for the simulator tests: a simulator on a random port with a frozen, injected
// clock, and the official stripe-node client pointed at it.
import Stripe from 'stripe';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.js';

/** A fixed simulated "now" (2026-01-01T00:00:00Z) so timestamps are deterministic. */
export const T0 = Date.UTC(2026, 0, 1);

/** A stripe-node client for a simulator, configured like the project's activities. */
export function stripeClient(sim: Pick<Simulator, 'port'>): Stripe {
  return new Stripe('sk_test_sim', {
    host: '127.0.0.1',
    port: sim.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
}

/** Starts a simulator with a frozen clock at T0 (move it with advanceTime) and seed 7. */
export async function startTestSimulator(
  options: SimulatorOptions = {},
): Promise<{ sim: Simulator; stripe: Stripe }> {
  const sim = await startSimulator({ now: () => T0, seed: 7, ...options });
  return { sim, stripe: stripeClient(sim) };
}

/** Runs `fn` and returns the Stripe error it rejects with (fails the test if it resolves). */
export async function stripeError(
  fn: () => Promise<unknown>,
): Promise<InstanceType<typeof Stripe.errors.StripeError>> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected the Stripe call to fail, but it succeeded');
}
