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
import { disputeCommand, disputesCommand } from './dispute-commands.js';
import { refundCommand } from './refund-commands.js';
import { receiverCommand, workerCommand } from './process-commands.js';
import { setupCommand } from './setup-command.js';
import { simCommand } from './sim-command.js';

/** Every command of the CLI. */
export const commands: readonly Command[] = [
  chargeCommand,
  statusCommand,
  listCommand,
  retryNowCommand,
  cancelCommand,
  refundCommand,
  disputesCommand,
  disputeCommand,
  backfillEventsCommand,
  simCommand,
  setupCommand,
  workerCommand,
  receiverCommand,
];
