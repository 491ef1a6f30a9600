/**
 * "Did you mean": the catalogue entries nearest to a value the cloud does not know, for
 * errors such as an unknown `productId` or image. Cloud-free.
 */

export interface Choice {
  id: string;
  /** A display name also matched against, e.g. `RTX 4090 24GB`. */
  name?: string;
}

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[t.length];
}

/** How far a choice is from what was asked: the nearer of its id and name; containing it counts as near. */
function distance(wanted: string, c: Choice): number {
  const w = wanted.toLowerCase();
  return Math.min(
    ...[c.id, c.name].filter((x): x is string => !!x).map((x) => (x.toLowerCase().includes(w) || w.includes(x.toLowerCase()) ? Math.abs(x.length - w.length) / 100 : editDistance(w, x))),
  );
}

/** The `n` choices nearest to `wanted`, nearest first (ties keep the catalogue's order). */
export function nearest<C extends Choice>(wanted: string, choices: readonly C[], n = 3): C[] {
  return choices
    .map((c, i) => ({ c, i, d: distance(wanted, c) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, n)
    .map((x) => x.c);
}

/** `"4090.24g" (RTX 4090 24GB), "4090.48g" (…)`: choices as an error lists them. */
export function listChoices(choices: readonly Choice[]): string {
  return choices.map((c) => (c.name && c.name !== c.id ? `"${c.id}" (${c.name})` : `"${c.id}"`)).join(", ");
}
