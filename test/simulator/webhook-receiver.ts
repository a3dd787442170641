// A minimal webhook receiver for the simulator tests: verifies each delivery with stripe-node's
// `webhooks.constructEvent` (as the project's receiver will), answers 400 on a bad signature,
// otherwise the next scripted status (default 200), and records everything it saw.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/** One request the receiver got. */
export interface Received {
  body: string;
  signature: string;
  /** The verified event, or undefined when verification failed. */
  event: Stripe.Event | undefined;
  verificationError: string | undefined;
  status: number;
}

/** A running receiver. */
export interface WebhookReceiver {
  url: string;
  secret: string;
  received: Received[];
  /** Statuses to answer verified deliveries with, in order; then 200. */
  script: number[];
  close(): Promise<void>;
}

/** Starts a receiver on a random port that verifies with `secret`. */
export async function startWebhookReceiver(secret = 'whsec_test_sim'): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const script: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['stripe-signature'] ?? '');
      let event: Stripe.Event | undefined;
      let verificationError: string | undefined;
      try {
        event = Stripe.webhooks.constructEvent(body, signature, secret);
      } catch (error) {
        verificationError = error instanceof Error ? error.message : String(error);
      }
      const status = event ? (script.shift() ?? 200) : 400;
      received.push({ body, signature, event, verificationError, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    secret,
    received,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
