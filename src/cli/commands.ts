// The commands of `durable-billing`, in the order `--help` lists them.
import { backfillEventsCommand } from './backfill-command.js';
import {
  cancelCommand,
  chargeCommand,
  listCommand,
  retryNowCommand,
  statusCommand,
} from './charge-commands.js';
import type { Command } from './command.js';
import { simCommand } from './sim-command.js';

/** Every command of the CLI. */
export const commands: readonly Command[] = [
  chargeCommand,
  statusCommand,
  listCommand,
  retryNowCommand,
  cancelCommand,
  backfillEventsCommand,
  simCommand,
];
