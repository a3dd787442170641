// The docs' generated blocks match their sources (regenerate with `npm run docs`), every figure
// sits in such a block, and every relative link in README.md and docs/*.md lands.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatedBlocks } from '../scripts/docs.js';
import { blockNames, comparable, readBlock } from '../src/docs/blocks.js';
import { anchors, markdownLinks } from './docs/links.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** README.md and every page under docs/ (the chaos results files are pages too). */
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

/** The pages' text outside generated blocks: what a person wrote. */
function handWritten(page: string): string {
  let text = read(page);
  for (const name of blockNames(text)) {
    const start = text.indexOf(`<!-- ${name}:start -->`);
    const end = text.indexOf(`<!-- ${name}:end -->`);
    text = text.slice(0, start) + text.slice(end);
  }
  return text;
}

describe('generated blocks', () => {
  const blocks = generatedBlocks();

  it.each(blocks.map((b) => [`${b.page} ${b.block} (from ${b.source})`, b] as const))(
    '%s is what its source renders today',
    (_, { page, block, body }) => {
      expect(comparable(readBlock(read(page), block, page))).toEqual(comparable(body));
    },
  );

  it('every block in the docs has a renderer (no block is kept up to date by hand)', () => {
    const rendered = new Set(blocks.map((b) => `${b.page}#${b.block}`));
    const found = pages.flatMap((page) => blockNames(read(page)).map((name) => `${page}#${name}`));
    expect(found.filter((b) => !rendered.has(b))).toEqual([]);
    expect([...rendered].filter((b) => !found.includes(b))).toEqual([]);
  });

  it('no ratio (0.81×) is typed by hand: every one is in a generated block or a results file', () => {
    const results = new Set(blocks.map((b) => b.source));
    const typed = pages
      .filter((page) => !results.has(page))
      .flatMap((page) =>
        handWritten(page)
          .split('\n')
          .filter((line) => /\d×/.test(line))
          .map((line) => `${page}: ${line.trim()}`),
      );
    expect(typed).toEqual([]);
  });
});

describe('links', () => {
  it.each(pages)('every relative link in %s points at a file in the repository', (page) => {
    const broken: string[] = [];
    for (const { line, target } of markdownLinks(read(page))) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path = '', anchor] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? join(root, page) : resolve(root, dirname(page), decodeURI(path));
      const where = `${page}:${line} → ${target}`;
      if (relative(root, file).startsWith('..')) broken.push(`${where}: outside the repository`);
      else if (!existsSync(file)) broken.push(`${where}: no such file`);
      else if (
        anchor &&
        file.endsWith('.md') &&
        statSync(file).isFile() &&
        !anchors(file).has(anchor)
      )
        broken.push(`${where}: no heading with that anchor`);
    }
    expect(broken).toEqual([]);
  });
});
