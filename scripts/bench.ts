// `npm run bench`: the performance figures of DESIGN.md's claims, each a ratio against a
// baseline measured in the same run on the same server. Writes bench/results.json and renders
// the table into docs/performance.md (between its performance markers; a file without them is
// written whole); progress goes to stderr.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { parseOptions } from '../bench/options.js';
import { renderMarkdown, RESULTS_SCHEMA_VERSION, type BenchResults } from '../bench/report.js';
import { runBench } from '../bench/run.js';
import { hasBlock } from '../src/docs/blocks.js';
import { PERFORMANCE_BLOCK, withPerformanceFigures } from '../src/docs/figures.js';

/** Writes `text` formatted as the repository's Prettier config says, so the check stays clean. */
async function write(path: string, text: string): Promise<string> {
  const formatted = await format(text, { ...(await resolveConfig(path)), filepath: path });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, formatted);
  return formatted;
}

/** The results in `path`, if they have the shape this bench renders. */
function readResults(path: string): BenchResults {
  const results = JSON.parse(readFileSync(path, 'utf8')) as { schemaVersion?: unknown };
  if (results.schemaVersion !== RESULTS_SCHEMA_VERSION)
    throw new Error(
      `${path} has results schema ${String(results.schemaVersion)}, this bench renders ${RESULTS_SCHEMA_VERSION}: run \`npm run bench\` again`,
    );
  return results as BenchResults;
}

const options = parseOptions(process.argv.slice(2));
const results = options.render ? readResults(options.out) : await runBench(options);
if (!options.render) await write(options.out, JSON.stringify(results, null, 2));
const markdown = renderMarkdown(results);
const page = existsSync(options.markdown) ? readFileSync(options.markdown, 'utf8') : '';
await write(
  options.markdown,
  hasBlock(page, PERFORMANCE_BLOCK)
    ? withPerformanceFigures(page, markdown, results, options.markdown)
    : markdown,
);
process.stdout.write(markdown);
// The stack is closed; the SDK's native runtime may keep the loop alive a little longer.
process.exit(0);
