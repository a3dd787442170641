// The link checker of test/docs.test.ts finds links outside code and computes GitHub's anchors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, markdownLinks, slug } from './links.js';

describe('the docs link checker', () => {
  it('takes links and images from prose, not from code', () => {
    const markdown = [
      'See [the CLI](docs/cli.md#commands) and ![a picture](ui-list.png "title").',
      '`[not](a-link.md)`',
      '```md',
      '[not](either.md)',
      '```',
    ].join('\n');
    expect(markdownLinks(markdown)).toEqual([
      { line: 1, target: 'docs/cli.md#commands' },
      { line: 1, target: 'ui-list.png' },
    ]);
  });

  it.each([
    ['The guarantee, whoever calls', 'the-guarantee-whoever-calls'],
    [
      'Workflow states (`status().state`, search attribute `BillingStatus`)',
      'workflow-states-statusstate-search-attribute-billingstatus',
    ],
    ['The `.env` file', 'the-env-file'],
    ['Tracing (OpenTelemetry)', 'tracing-opentelemetry'],
    ['1. Find the charges', '1-find-the-charges'],
  ])('anchors "%s" as GitHub does: #%s', (heading, anchor) => {
    expect(slug(heading)).toBe(anchor);
  });

  it('numbers repeated headings and skips headings in code', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'links-')), 'page.md');
    writeFileSync(file, '# Page\n\n## Tests\n\n```sh\n# not a heading\n```\n\n## Tests\n');
    expect([...anchors(file)]).toEqual(['page', 'tests', 'tests-1']);
  });
});
