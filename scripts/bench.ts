// `npm run bench`: the performance figures of DESIGN.md's claims, each a ratio against a
// baseline measured in the same run on the same server. Writes bench/results.json and renders
// the table into docs/performance.md (between its performance markers; a file without them is
// written whole); progress goes to stderr.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { parseOptions } from '../bench/options.js';
import { mergeResults, readResults, renderMarkdown, type BenchResults } from '../bench/report.js';
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

const options = parseOptions(process.argv.slice(2));
const previous = existsSync(options.out) ? readResults(options.out) : undefined;
let results: BenchResults;
if (options.render) {
  if (!previous) throw new Error(`--render: no results in ${options.out}`);
  results = previous;
} else {
  const fresh = await runBench(options);
  // A partial run (`--only`, `--cluster`) replaces its own figures and keeps the others, each
  // with the date and load of its own run; quick and full figures never mix.
  results = previous && previous.mode === fresh.mode ? mergeResults(previous, fresh) : fresh;
  await write(options.out, JSON.stringify(results, null, 2));
}
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
