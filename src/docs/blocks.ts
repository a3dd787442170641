// Generated blocks in the docs: the text between `<!-- name:start -->` and `<!-- name:end -->`,
// rendered from a results file or the code by a command (`npm run docs`, the bench, the chaos
// run). Nothing between the markers is edited by hand; test/docs.test.ts compares each block with
// what its source renders today.

export function blockStart(name: string): string {
  return `<!-- ${name}:start -->`;
}

export function blockEnd(name: string): string {
  return `<!-- ${name}:end -->`;
}

/** Where the block `name` sits in `markdown`, or undefined when its markers are missing. */
function bounds(markdown: string, name: string): { from: number; to: number } | undefined {
  const from = markdown.indexOf(blockStart(name));
  const to = markdown.indexOf(blockEnd(name));
  return from < 0 || to < from ? undefined : { from, to };
}

export function hasBlock(markdown: string, name: string): boolean {
  return bounds(markdown, name) !== undefined;
}

/** The text between the markers of `name`. `where` names the file for the error. */
export function readBlock(markdown: string, name: string, where: string): string {
  const at = bounds(markdown, name);
  if (!at) throw new Error(`${where} lacks the ${blockStart(name)} … ${blockEnd(name)} markers`);
  return markdown.slice(at.from + blockStart(name).length, at.to).trim();
}

/** `markdown` with `body` between the markers of `name`. */
export function withBlock(markdown: string, name: string, body: string, where: string): string {
  const at = bounds(markdown, name);
  if (!at) throw new Error(`${where} lacks the ${blockStart(name)} … ${blockEnd(name)} markers`);
  return `${markdown.slice(0, at.from + blockStart(name).length)}\n\n${body.trim()}\n\n${markdown.slice(at.to)}`;
}

/** Every block name in `markdown`, in order. */
export function blockNames(markdown: string): string[] {
  return [...markdown.matchAll(/<!-- ([\w-]+):start -->/g)].map((m) => m[1]!);
}

/**
 * A block's text in a form that Prettier does not change: table rows as their trimmed cells
 * (column alignment differs), other lines with their whitespace collapsed, blank lines dropped.
 */
export function comparable(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^\|[\s-|:]+\|$/.test(line))
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim())
            .join('|')
        : line.replace(/\s+/g, ' '),
    );
}
