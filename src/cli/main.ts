// `durable-billing` (bin/durable-billing.js, `npm run cli`): the operators' CLI entry. Runs one
// command against this process's streams and environment and exits with its code.
import { commands } from './commands.js';
import { processIO } from './output.js';
import { runCli } from './program.js';

process.exitCode = await runCli(commands, process.argv.slice(2), processIO);
