// `durable-billing/webhooks/express`: the webhook handler as an Express route handler.
//
//   app.post('/webhooks/stripe', stripeWebhookHandler({ client, secrets, taskQueue }));
//
// It reads the raw body itself (verification needs the exact bytes), so it needs no body parser;
// after `express.raw()` it takes that Buffer. Typed structurally: the package does not depend on
// Express or its types.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './body.js';
import {
  createStripeWebhookHandler,
  DEFAULT_BODY_LIMIT_BYTES,
  type WebhookHandlerOptions,
  type WebhookRequest,
  type WebhookResponse,
} from './handler.js';

/** What the adapter uses of Express's request: node's, plus what a body parser left. */
export type ExpressLikeRequest = IncomingMessage & { body?: unknown };

/** An Express route handler: `(req, res, next)`. */
export type ExpressWebhookHandler = (
  req: ExpressLikeRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * The route handler. Mount it on the path Stripe posts to, before `express.json()` or on a
 * route that no JSON parser sees: a parsed body cannot be verified, and the adapter refuses it
 * loudly (an error to `next`, so Express answers 500 and Stripe redelivers) instead of acking.
 */
export function stripeWebhookHandler(options: WebhookHandlerOptions): ExpressWebhookHandler {
  const handle = createStripeWebhookHandler(options);
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  return (req, res, next) => {
    toWebhookRequest(req, limit)
      .then(async (request) => {
        if (request === undefined) {
          res.destroy(); // the client went away mid-body: nothing to answer
          return;
        }
        send(res, await handle(request));
      })
      .catch(next);
  };
}

async function toWebhookRequest(
  req: ExpressLikeRequest,
  limit: number,
): Promise<WebhookRequest | undefined> {
  const { body, headers } = req;
  if (Buffer.isBuffer(body)) return { rawBody: body, headers };
  if (body !== undefined) {
    // Express 5 leaves `req.body` undefined when no parser ran.
    throw new TypeError(
      'the Stripe webhook route got a parsed body (express.json() or express.text() ran first); mount stripeWebhookHandler before them, or give it express.raw(): the signature covers the exact bytes',
    );
  }
  if (req.readableEnded)
    throw new TypeError(
      'the Stripe webhook route got a request whose body was already read by another middleware',
    );
  const read = await readBody(req, limit);
  if ('aborted' in read) return undefined;
  return read.ok
    ? { rawBody: read.body, headers }
    : { rawBody: '', receivedBytes: read.received, headers };
}

function send(res: ServerResponse, response: WebhookResponse): void {
  // Past the limit the rest of the body is not read: close the connection after the answer.
  if (response.status === 413) res.setHeader('connection', 'close');
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}
