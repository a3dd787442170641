// Reading a webhook body from a node:http request within a size limit: shared by the standalone
// receiver and the Express adapter, which both see the request before any body parser.
import type { IncomingMessage } from 'node:http';

export type Body =
  | { ok: true; body: Buffer }
  /** Past the limit after `received` bytes: buffering stopped there. */
  | { ok: false; received: number }
  /** The client went away or sent broken framing: nothing to answer. */
  | { ok: false; aborted: true };

/**
 * The body's declared size, or undefined when it is sent chunked. node's parser has already
 * answered 400 to a malformed or contradictory `Content-Length`, so what is left is digits.
 */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

/**
 * Reads the body up to `limit` bytes. At the first chunk past it, it stops: the chunks are
 * dropped and the request is paused, so memory stays within the limit and a sender that keeps
 * going is held back by TCP flow control rather than read.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      chunks.length = 0;
      resolve({ ok: false, received: size });
    };
    req.on('data', onData);
    req.on('end', () => resolve({ ok: true, body: Buffer.concat(chunks) }));
    req.on('error', () => resolve({ ok: false, aborted: true }));
  });
}
