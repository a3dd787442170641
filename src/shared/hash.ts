// A small, stable, deterministic string hash (workflow-safe: no Node crypto).

/** 32-bit FNV-1a: well spread, stable across runs and replays; not a security hash. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
