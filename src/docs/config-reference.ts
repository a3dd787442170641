// The configuration table of docs/configuration.md, generated from the one config schema so it
// cannot drift. `npm run docs` rewrites it between its markers; a test fails when they disagree.
import { configSchema, loadConfig, type Config } from '../config.js';
import { blockEnd, blockStart, withBlock } from './blocks.js';

export const CONFIG_BLOCK = 'config-reference';
export const CONFIG_START = blockStart(CONFIG_BLOCK);
export const CONFIG_END = blockEnd(CONFIG_BLOCK);

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

/** `markdown` (docs/configuration.md) with the generated table between the markers. */
export function withConfigReference(markdown: string, where = 'docs/configuration.md'): string {
  return withBlock(markdown, CONFIG_BLOCK, configReference(), where);
}
