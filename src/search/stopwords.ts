/**
 * Function words dropped from ranked word queries (not from phrases): they
 * match nearly every abstract, add nothing to BM25 and make queries slow.
 */
export const STOPWORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does for from had has have how if in into is it its ' +
    'may might no not of on or our over per shall should so such than that the their them then there these they ' +
    'this those to under via was we were what when where which who whom why will with would'
  ).split(' '),
);

export function withoutStopwords(terms: readonly string[]): string[] {
  const kept = terms.filter((t) => !STOPWORDS.has(t));
  return kept.length ? kept : [...terms];
}
