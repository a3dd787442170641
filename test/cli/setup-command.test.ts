// `durable-billing setup` against the shared dev server: a new namespace gets created with every
// billing search attribute, a second run changes nothing, and an attribute of another type fails.
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands } from '../../src/cli/commands.js';
import { runCli } from '../../src/cli/program.js';
import { INDEXED_VALUE_TYPE } from '../../src/cli/setup-command.js';
import { billingSearchAttributes } from '../../src/shared/search-attributes.js';

let connection: Connection;
const namespace = `setup-${Date.now().toString(36)}`;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
});

afterAll(async () => {
  await connection?.close();
});

async function setup(
  args: string[],
): Promise<{ code: number; result: Record<string, unknown>; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(commands, ['setup', '--json', ...args], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: { TEMPORAL_ADDRESS: inject('temporalAddress') },
    interrupted: () => new Promise(() => undefined),
  });
  return { code, result: JSON.parse(stdout) as Record<string, unknown>, stderr };
}

describe('durable-billing setup', () => {
  it('creates a missing namespace with every billing search attribute, and a second run adds nothing', async () => {
    const first = await setup(['--namespace', namespace, '--retention-days', '3']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.result).toMatchObject({ namespace, namespaceCreated: true, present: [] });
    expect(first.result.added).toEqual(billingSearchAttributes.map((k) => k.name));

    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    for (const key of billingSearchAttributes)
      expect(listed.customAttributes[key.name], key.name).toBe(INDEXED_VALUE_TYPE[key.type]);
    const described = await connection.workflowService.describeNamespace({ namespace });
    expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(3 * 24 * 3600);

    const second = await setup(['--namespace', namespace]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.result).toMatchObject({ namespaceCreated: false, added: [] });
    expect(second.result.present).toEqual(billingSearchAttributes.map((k) => k.name));
  });

  it('fails, naming the attribute, when the namespace has one of ours with another type', async () => {
    const other = `${namespace}-clash`;
    await connection.workflowService.registerNamespace({
      namespace: other,
      workflowExecutionRetentionPeriod: msToTs(86_400_000),
    });
    // Registered as Text where the workflows write a Keyword.
    const [first] = billingSearchAttributes;
    let added = false;
    for (let i = 0; i < 30 && !added; i++)
      added = await connection.operatorService
        .addSearchAttributes({ namespace: other, searchAttributes: { [first.name]: 1 } })
        .then(
          () => true,
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 500));
            return false;
          },
        );
    expect(added).toBe(true);
    const run = await setup(['--namespace', other]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`search attribute ${first.name} exists`);
  });
});
