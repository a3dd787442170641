// The README's generated parts: the configuration table (from the one config schema, so it
// cannot drift) and the bench's Performance table.
// `npm run docs` rewrites the README between its markers; a test fails when they disagree.
import { configSchema, loadConfig, type Config } from '../config.js';

export const CONFIG_START = '<!-- config-reference:start -->';
export const CONFIG_END = '<!-- config-reference:end -->';

function shown(value: Config[keyof Config]): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return '—';
  if (Array.isArray(value)) return `\`${value.join(',')}\``;
  return `\`${typeof value === 'object' ? JSON.stringify(value) : value}\``;
}

/** A markdown table: variable, default, meaning. */
export function configReference(): string {
  const defaults = loadConfig({});
  const rows = Object.entries(configSchema.shape).map(
    ([name, schema]) =>
      `| \`${name}\` | ${shown(defaults[name as keyof typeof defaults])} | ${schema.description ?? ''} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** `readme` with the generated table between the markers. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(CONFIG_START);
  const end = readme.indexOf(CONFIG_END);
  if (start < 0 || end < start)
    throw new Error(`README.md lacks the ${CONFIG_START} … ${CONFIG_END} markers`);
  return `${readme.slice(0, start + CONFIG_START.length)}\n\n${configReference()}\n\n${readme.slice(end)}`;
}

export const PERFORMANCE_START = '<!-- performance:start -->';
export const PERFORMANCE_END = '<!-- performance:end -->';

/** The bench's table (docs/performance.md) without its generated-file comment. */
export function performanceBody(markdown: string): string {
  return markdown.replace(/^<!--[\s\S]*?-->\s*/, '').trim();
}

/** `readme` with the bench's table between the performance markers. */
export function withPerformance(readme: string, performanceMarkdown: string): string {
  const start = readme.indexOf(PERFORMANCE_START);
  const end = readme.indexOf(PERFORMANCE_END);
  if (start < 0 || end < start)
    throw new Error(`README.md lacks the ${PERFORMANCE_START} … ${PERFORMANCE_END} markers`);
  return `${readme.slice(0, start + PERFORMANCE_START.length)}\n\n${performanceBody(performanceMarkdown)}\n\n${readme.slice(end)}`;
}
