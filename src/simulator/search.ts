// Stripe Search as the simulator has it: the subset of the query language the project sends
// (`metadata['order_id']:'o1'`, `status:'succeeded'`, AND / OR, `-` negation, backslash-escaped
// quotes) and the index lag that makes search eventually consistent, as Stripe's is.
import { z } from 'zod';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency.js';

/**
 * Simulated ms from a PaymentIntent's creation until search finds it, by default. Stripe:
 * "Don't use search for read-after-write flows … Under normal operating conditions, data is
 * searchable in under 1 minute" (docs.stripe.com/search#data-freshness). A short default keeps
 * tests quick while still failing code that searches for what it has just created.
 */
export const DEFAULT_SEARCH_LAG_MS = 2000;

/**
 * The longest lag accepted: Stripe's 24 h key retention, so that once a caller's key has expired
 * (DESIGN.md invariant 3: reconcile, then move on) every intent is searchable.
 */
export const SEARCH_LAG_MAX_MS = IDEMPOTENCY_KEY_TTL_MS;

/** A search lag in simulated ms: a whole number from 0 (instant) to {@link SEARCH_LAG_MAX_MS}. */
export const searchLagMsSchema = z.number().int().min(0).max(SEARCH_LAG_MAX_MS);

/** Comparison operators; `:` is equality. */
export type SearchOperator = ':' | '>' | '<' | '>=' | '<=';

/** One clause, e.g. `-metadata['order_id']:'o1'`; `metadataKey` is set for `metadata[…]` fields. */
export interface SearchClause {
  negated: boolean;
  field: string;
  metadataKey: string | undefined;
  operator: SearchOperator;
  /** The value with its quotes removed and escapes resolved. */
  value: string;
}

/** A parsed query: clauses joined by one combinator (Stripe does not allow mixing AND and OR). */
export interface SearchQuery {
  clauses: SearchClause[];
  combinator: 'AND' | 'OR';
}

/** The parse result; `message` says what is wrong, for the 400 Stripe would send. */
export type ParsedSearchQuery = { ok: true; query: SearchQuery } | { ok: false; message: string };

// One clause: optional `-`, a field (`metadata['key']` or a name), an operator, then a quoted
// string or a number. Quoted strings (groups 2-3 and 6-7) follow Stripe's "You can escape quotes
// inside of quotes with a backslash" (`\'`, `\"`); here a backslash escapes any next character.
const CLAUSE =
  /(-?)(?:metadata\[(['"])((?:\\.|(?!\2)[^\\])*)\2\]|([a-z_]+))\s*(>=|<=|:|>|<)\s*(?:(['"])((?:\\.|(?!\6)[^\\])*)\6|(\d+))/sy;
const OPERATORS: readonly SearchOperator[] = ['>=', '<=', ':', '>', '<'];
// Clauses are joined by AND or OR (any case) or, meaning AND, by whitespace alone.
const JOINER = /\s+(?:(and|or)\s+)?/iy;

function unescape(text: string): string {
  return text.replace(/\\(.)/gs, '$1');
}

/** Parses a search query; never throws. */
export function parseSearchQuery(text: string): ParsedSearchQuery {
  const clauses: SearchClause[] = [];
  const combinators = new Set<'AND' | 'OR'>();
  let position = text.length - text.trimStart().length;
  for (;;) {
    CLAUSE.lastIndex = position;
    const match = CLAUSE.exec(text);
    if (!match)
      return {
        ok: false,
        message: `Invalid search query: expected a clause like metadata['key']:'value' at position ${position} of ${JSON.stringify(text)}.`,
      };
    const [, negated, , metadataKey, field, operator, , value, numeric] = match;
    clauses.push({
      negated: negated === '-',
      field: metadataKey !== undefined ? 'metadata' : (field ?? ''),
      metadataKey: metadataKey !== undefined ? unescape(metadataKey) : undefined,
      operator: OPERATORS.find((o) => o === operator) ?? ':',
      value: value !== undefined ? unescape(value) : (numeric ?? ''),
    });
    position = CLAUSE.lastIndex;
    if (text.slice(position).trim() === '') break;
    JOINER.lastIndex = position;
    const joiner = JOINER.exec(text);
    if (!joiner)
      return {
        ok: false,
        message: `Invalid search query: expected AND, OR or a space between clauses at position ${position} of ${JSON.stringify(text)}.`,
      };
    combinators.add(joiner[1]?.toUpperCase() === 'OR' ? 'OR' : 'AND');
    position = JOINER.lastIndex;
  }
  if (combinators.size > 1) return { ok: false, message: 'Search queries cannot mix AND and OR.' };
  return { ok: true, query: { clauses, combinator: combinators.has('OR') ? 'OR' : 'AND' } };
}

/**
 * The value a query requires `metadata[key]` to equal in every result (a plain `:` clause in an
 * AND query, or the only clause), else undefined.
 */
export function pinnedMetadataValue(query: SearchQuery, key: string): string | undefined {
  return pinnedMetadata(query, key)?.value;
}

/**
 * A `metadata[key]:value` pair that every result must have (of `key` when given, else the
 * first), or undefined: what an index on metadata can answer before the query is run.
 */
export function pinnedMetadata(
  query: SearchQuery,
  key?: string,
): { key: string; value: string } | undefined {
  if (query.combinator === 'OR' && query.clauses.length > 1) return undefined;
  const clause = query.clauses.find(
    (c) =>
      !c.negated &&
      c.operator === ':' &&
      c.metadataKey !== undefined &&
      (key === undefined || c.metadataKey === key),
  );
  return clause?.metadataKey !== undefined
    ? { key: clause.metadataKey, value: clause.value }
    : undefined;
}
