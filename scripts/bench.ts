// `npm run bench`: the performance figures of DESIGN.md's claims, each a ratio against a
// baseline measured in the same run on the same server. Writes bench/results.json and the
// table docs/performance.md (embedded in the README); progress goes to stderr.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { parseOptions } from '../bench/options.js';
import { renderMarkdown, RESULTS_SCHEMA_VERSION, type BenchResults } from '../bench/report.js';
import { runBench } from '../bench/run.js';

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
process.stdout.write(await write(options.markdown, renderMarkdown(results)));
// The stack is closed; the SDK's native runtime may keep the loop alive a little longer.
process.exit(0);
