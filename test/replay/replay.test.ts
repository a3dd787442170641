// Determinism guard (DESIGN.md invariant 6): recorded histories of representative charges are
// replayed against the current workflow code; a deliberately changed workflow must be caught.
// Re-record with `npm run record:histories` (see README, "Replay tests").
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, inject, it } from 'vitest';
import { bundleWorkflows } from '../../src/embedded/bundle.js';
import { quietRuntime } from '../helpers/temporal.js';
import { historyFromJSON } from './history-json.js';
import { HISTORIES_DIR, SCENARIOS, scenarioWorkflowId } from './scenarios.js';

const load = (name: string) =>
  historyFromJSON(readFileSync(new URL(`${name}.json`, HISTORIES_DIR), 'utf8'));

// The changed-workflow test makes the SDK log a nondeterminism warning on purpose.
quietRuntime();

describe('replaying recorded histories', () => {
  it('has a recorded history for every scenario', () => {
    const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(SCENARIOS.map((s) => `${s.name}.json`).sort());
  });

  it.each(SCENARIOS.map((s) => s.name))(
    'replays %s deterministically on the current code',
    async (name) => {
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        load(name),
        scenarioWorkflowId(name),
      );
    },
  );

  it('detects a workflow change that alters the command sequence', async () => {
    const changed = await bundleWorkflows(
      fileURLToPath(new URL('./changed-workflow.ts', import.meta.url)),
    );
    const error: unknown = await Worker.runReplayHistory(
      { workflowBundle: changed },
      load('success'),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeterminismViolationError);
  }, 60_000);
});
