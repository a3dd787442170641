// `durable-billing/webhooks/web`: the webhook handler on Web-standard `Request` → `Response`,
// for Next.js route handlers, Hono, Bun, Deno and other fetch-style servers.
//
//   const handle = createWebhookFetchHandler({ client, secrets, taskQueue });
//   export const POST = (request: Request) => handle(request); // app/webhooks/stripe/route.ts
import {
  createStripeWebhookHandler,
  DEFAULT_BODY_LIMIT_BYTES,
  type WebhookHandlerOptions,
  type WebhookRequest,
} from './handler.js';

/** Answers one Stripe webhook request; give it the request before anything reads its body. */
export type WebhookFetchHandler = (request: Request) => Promise<Response>;

export function createWebhookFetchHandler(options: WebhookHandlerOptions): WebhookFetchHandler {
  const handle = createStripeWebhookHandler(options);
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  return async (request) => {
    if (request.method !== 'POST')
      return Response.json(
        { error: 'method_not_allowed' },
        { status: 405, headers: { allow: 'POST' } },
      );
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const response = await handle({ ...(await readLimited(request, limit)), headers });
    return new Response(response.body, { status: response.status, headers: response.headers });
  };
}

/**
 * The body's bytes, read no further than `limit`: a declared `Content-Length` above it is not
 * read at all, and a streamed body is cancelled at the first chunk past it.
 */
async function readLimited(
  request: Request,
  limit: number,
): Promise<Pick<WebhookRequest, 'rawBody' | 'receivedBytes'>> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isSafeInteger(declared) && declared > limit)
    return { rawBody: '', receivedBytes: declared };
  if (request.body === null) return { rawBody: new Uint8Array(0) };
  // node's types leave the chunk type open; a Request body's chunks are bytes.
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { rawBody: '', receivedBytes: size };
    }
    chunks.push(value);
  }
  return { rawBody: Buffer.concat(chunks) };
}
