// `disputes list --due-within <days>` and `dispute submit-evidence <disputeId> --file <json>`
// (issue 14): find the disputes whose evidence is due (the Temporal UI's filter, printed), and
// send evidence through the dispute's workflow (its submitEvidence update, a derived key).
import { readFile } from 'node:fs/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DISPUTE_ID_PATTERN } from '../shared/after-charge-ids.js';
import { integerFlag, jsonFlag, type Command } from './command.js';
import { ExitCode, UsageError } from './errors.js';
import { formatTable } from './output.js';

export const disputesCommand: Command = {
  name: 'disputes',
  summary: 'List open disputes whose evidence is due within N days (`disputes list`).',
  description: [
    'A visibility query over the dispute workflows’ search attributes (BillingDisputeDueBy,',
    'BillingStatus): the disputes that still wait for evidence due before now + N days, soonest',
    'first. Prints the query, which also works in the Temporal UI’s filter.',
  ].join('\n'),
  positionals: [{ name: 'action', description: 'list' }],
  flags: {
    'due-within': {
      type: 'string',
      value: '<days>',
      required: true,
      description: 'Evidence due within this many days (1–365).',
    },
    limit: {
      type: 'string',
      value: '<n>',
      description: 'At most this many (1–1000, default 100).',
    },
  },
  examples: [
    'durable-billing disputes list --due-within 3',
    'durable-billing disputes list --due-within 7 --json',
  ],
  async run(context) {
    if (context.positionals[0] !== 'list')
      throw new UsageError(
        `unknown action "${context.positionals[0]}": use \`disputes list\``,
        'disputes',
      );
    const days = integerFlag('disputes', 'due-within', context.required('due-within'), {
      min: 1,
      max: 365,
    });
    const limitText = context.string('limit');
    const limit =
      limitText === undefined
        ? 100
        : integerFlag('disputes', 'limit', limitText, { min: 1, max: 1000 });
    const session = await context.connect();
    const { query, disputes } = await session.billing.listDisputesDue(days, { limit });
    context.out.result({ query, count: disputes.length, disputes }, () =>
      disputes.length === 0
        ? `no open dispute has evidence due within ${days} day(s)\nquery: ${query}`
        : `${formatTable(
            ['DISPUTE', 'ORDER', 'AMOUNT', 'STATUS', 'DUE BY'],
            disputes.map((d) => [
              d.disputeId,
              d.orderId,
              d.amount === undefined ? undefined : String(d.amount),
              d.status,
              d.dueBy,
            ]),
          )}\n\n${disputes.length} dispute(s); query: ${query}`,
    );
    return ExitCode.ok;
  },
};

export const disputeCommand: Command = {
  name: 'dispute',
  summary: 'Send evidence for a dispute (`dispute submit-evidence <disputeId> --file <json>`).',
  description: [
    'Sends the evidence in the JSON file (Stripe’s evidence fields, e.g.',
    '{"product_description":"…","customer_email_address":"…"}) to Stripe through the dispute’s',
    'workflow, which submits it to the bank (--save-only: saves it without submitting) with a key',
    'derived from its state. Exit 1 if the workflow or Stripe does not take it.',
  ].join('\n'),
  positionals: [
    { name: 'action', description: 'submit-evidence' },
    { name: 'disputeId', description: 'The dispute (dp_…); its workflow is dispute:<disputeId>.' },
  ],
  flags: {
    file: {
      type: 'string',
      value: '<json>',
      required: true,
      description: 'The evidence, as a JSON object.',
    },
    'save-only': {
      type: 'boolean',
      description: 'Save the evidence on the dispute without submitting it.',
    },
  },
  examples: ['durable-billing dispute submit-evidence dp_123 --file evidence.json'],
  async run(context) {
    const [action, disputeId = ''] = context.positionals;
    if (action !== 'submit-evidence')
      throw new UsageError(
        `unknown action "${action}": use \`dispute submit-evidence <disputeId>\``,
        'dispute',
      );
    if (!DISPUTE_ID_PATTERN.test(disputeId))
      throw new UsageError(
        `<disputeId> must be a Stripe dispute id such as dp_123, got "${disputeId}"`,
        'dispute',
      );
    const path = context.required('file');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--file ${path} cannot be read: ${(error as Error).message}`,
        'dispute',
        { cause: error },
      );
    }
    const evidence = jsonFlag('dispute', 'file', text);
    const session = await context.connect();
    const handle = session.billing.getDispute(disputeId);
    let answer;
    try {
      answer = await handle.submitEvidence({
        evidence: evidence as Record<string, string>,
        submit: !context.flag('save-only'),
      });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      answer = {
        accepted: false,
        reason: `no open dispute workflow ${handle.workflow.workflowId} (closed, or never opened here)`,
      };
    }
    context.out.result(
      { disputeId, workflowId: handle.workflow.workflowId, ...answer },
      answer.accepted
        ? `evidence for ${disputeId} accepted by Stripe (status ${answer.status})`
        : `evidence for ${disputeId} not accepted: ${answer.reason ?? 'no reason given'}`,
    );
    return answer.accepted ? ExitCode.ok : ExitCode.failure;
  },
};
