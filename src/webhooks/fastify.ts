// `durable-billing/webhooks/fastify`: the webhook handler as a Fastify plugin.
//
//   await app.register(stripeWebhookPlugin, { client, secrets, taskQueue });
//
// The plugin's own encapsulated context parses every body of its route as a raw Buffer
// (verification needs the exact bytes); the rest of the app keeps its JSON parser.
import type { FastifyPluginAsync } from 'fastify';
import {
  createStripeWebhookHandler,
  DEFAULT_BODY_LIMIT_BYTES,
  type WebhookHandlerOptions,
} from './handler.js';
import { WEBHOOK_PATH } from './server.js';

export interface FastifyWebhookOptions extends WebhookHandlerOptions {
  /** The route Stripe posts to; default `/webhooks/stripe`. */
  path?: string;
}

/**
 * Registers `POST <path>`. A body over `bodyLimitBytes` is refused by Fastify's parser with 413
 * before the handler runs (so it is not in the handler's metrics).
 */
export const stripeWebhookPlugin: FastifyPluginAsync<FastifyWebhookOptions> = async (
  app,
  options,
) => {
  const handle = createStripeWebhookHandler(options);
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  // Encapsulated (this plugin is not wrapped with fastify-plugin): only this route is affected.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    done(null, body);
  });
  app.post(options.path ?? WEBHOOK_PATH, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const response = await handle({ rawBody, headers: request.headers });
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
};
