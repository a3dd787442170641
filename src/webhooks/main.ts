// `npm run receiver` (and the image's `node dist/webhooks/main.js`): the standalone webhook
// receiver from the environment (see runReceiver), until SIGINT/SIGTERM.
import { fallbackLogger } from '../observability/logger.js';
import { runReceiver } from './receiver.js';

runReceiver().catch((error: unknown) => {
  // The configuration may be what failed, so the logger cannot come from it.
  fallbackLogger('receiver').fatal({ err: error }, 'receiver failed');
  process.exit(1);
});
