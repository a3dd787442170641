// The provisioned Temporal CLI (`temporal`), run as an operator would against the run's shared
// dev server. Only the address and namespace are passed: the user's Temporal env config (TOML
// profiles, TEMPORAL_* variables, legacy env presets) never reaches the child.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { devServerExecutable } from '../../src/embedded/servers.js';

export interface TemporalCliRun {
  /** The exit code; `null` when a signal or the timeout ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface TemporalCliOptions {
  /** Kills the CLI after this many ms (default 60 000): a hung command fails its test. */
  timeoutMs?: number;
}

/** The `temporal` binary that scripts/provision.ts built (the dev server is the same binary). */
export function temporalCliPath(): string {
  const executable = devServerExecutable();
  if (executable.type !== 'existing-path') {
    throw new Error(
      'no provisioned Temporal CLI: run `npm run provision -- --dev-server` (the tests never download it)',
    );
  }
  return executable.path;
}

/**
 * Runs `temporal <args…> --address <dev server> --namespace <its namespace>`, and resolves
 * with what it printed and its exit code (a non-zero exit resolves too: tests assert on it).
 */
export function temporal(
  args: readonly string[],
  options: TemporalCliOptions = {},
): Promise<TemporalCliRun> {
  const connection = [
    '--address',
    inject('temporalAddress'),
    '--namespace',
    inject('temporalNamespace'),
    '--disable-config-file',
    '--disable-config-env',
    '--color',
    'never',
  ];
  const executable = temporalCliPath();
  // An empty HOME of its own: no TOML profile or legacy env preset of the user's applies.
  const home = mkdtempSync(join(tmpdir(), 'durable-billing-temporal-cli-'));
  const env = { PATH: process.env.PATH, HOME: home };
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      [...args, ...connection],
      { env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        rmSync(home, { recursive: true, force: true });
        if (error && typeof error.code !== 'number' && !error.killed) {
          reject(new Error(`could not run ${executable}`, { cause: error })); // e.g. ENOENT
          return;
        }
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}
