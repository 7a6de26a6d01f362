/**
 * The PostgreSQL keyword-search schema (migration 8): a real inverted index kept by triggers.
 *
 *  - `paperboy_search`, a text search configuration: the default parser over text whose
 *    punctuation is turned into spaces and whose diacritics are stripped (so tokens are the runs of
 *    letters and digits, as FTS5's unicode61 sees them), every token stemmed by Snowball English
 *    with no stop words (FTS5 indexes every word too).
 *  - `search_docs`: per paper, a tsvector (title weight A, abstract B, authors C) under a GIN index
 *    for boolean matching, phrases, prefixes and the authors column; and its length in tokens.
 *  - `search_postings`: per (lexeme, paper), the column-weighted term frequency
 *    (title 3 + abstract 1 + authors 2 — BM25_WEIGHTS, baked in: changing them needs a reindex)
 *    and the document length, covered by the primary key so BM25 reads the index alone.
 *
 * Triggers on papers keep both in step with every insert, text update and delete.
 */
export const PG_SEARCH_SCHEMA = `
  CREATE TEXT SEARCH DICTIONARY paperboy_stem (TEMPLATE = pg_catalog.snowball, Language = english);
  CREATE TEXT SEARCH CONFIGURATION paperboy_search (PARSER = pg_catalog."default");
  ALTER TEXT SEARCH CONFIGURATION paperboy_search ADD MAPPING FOR
    asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart,
    email, protocol, url, host, url_path, file, sfloat, float, int, uint, version, tag, entity
    WITH paperboy_stem;

  -- Diacritics off, punctuation and symbols to spaces: tokens are runs of letters and digits.
  CREATE FUNCTION paperboy_search_text(t text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $f$
    SELECT regexp_replace(
      normalize(regexp_replace(normalize(coalesce(t, ''), NFD), '[\\u0300-\\u036f]+', '', 'g'), NFC),
      '[^[:alnum:]]+', ' ', 'g')
  $f$;

  -- Each column ends with a sentinel word that is then deleted: the gap it leaves in the positions
  -- keeps phrases from running from one column into the next (as in FTS5), so a phrase query needs
  -- no weight labels.
  CREATE FUNCTION paperboy_search_tsv(title text, abstract text, authors text) RETURNS tsvector LANGUAGE sql STABLE PARALLEL SAFE AS $f$
    SELECT ts_delete(
         setweight(to_tsvector('paperboy_search', paperboy_search_text(title) || ' qzxjgapqzxj'), 'A')
      || setweight(to_tsvector('paperboy_search', paperboy_search_text(abstract) || ' qzxjgapqzxj'), 'B')
      || setweight(to_tsvector('paperboy_search', paperboy_search_text(authors)), 'C'), 'qzxjgapqzxj')
  $f$;

  -- A word or a prefix as the lexemes it is indexed as, in order.
  CREATE FUNCTION paperboy_search_lexemes(w text) RETURNS text[] LANGUAGE sql STABLE PARALLEL SAFE AS $f$
    SELECT coalesce(array_agg(lexeme ORDER BY positions[1]), '{}')
    FROM unnest(to_tsvector('paperboy_search', paperboy_search_text(w)))
  $f$;

  CREATE TABLE search_docs (
    paper_id BIGINT PRIMARY KEY,
    dl INTEGER NOT NULL,
    tsv tsvector NOT NULL
  );
  CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv);

  CREATE TABLE search_postings (
    lexeme TEXT COLLATE "C" NOT NULL,
    paper_id BIGINT NOT NULL,
    tf REAL NOT NULL,
    dl INTEGER NOT NULL,
    PRIMARY KEY (lexeme, paper_id) INCLUDE (tf, dl)
  );
  -- Lexeme frequencies are very skewed: a long most-common list lets the planner pick join orders.
  ALTER TABLE search_postings ALTER COLUMN lexeme SET STATISTICS 1000;

  CREATE FUNCTION paperboy_search_add(id bigint, title text, abstract text, authors text) RETURNS void LANGUAGE plpgsql AS $f$
  DECLARE
    v tsvector := paperboy_search_tsv(title, abstract, authors);
    n integer;
  BEGIN
    SELECT coalesce(sum(cardinality(positions)), 0) INTO n FROM unnest(v);
    INSERT INTO search_docs (paper_id, dl, tsv) VALUES (id, n, v);
    INSERT INTO search_postings (lexeme, paper_id, tf, dl)
      SELECT u.lexeme, id,
        (SELECT sum(CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 1 WHEN 'C' THEN 2 ELSE 0 END) FROM unnest(u.weights) w), n
      FROM unnest(v) u;
  END
  $f$;

  CREATE FUNCTION paperboy_search_remove(id bigint) RETURNS void LANGUAGE plpgsql AS $f$
  DECLARE
    v tsvector;
  BEGIN
    DELETE FROM search_docs WHERE paper_id = id RETURNING tsv INTO v;
    IF v IS NOT NULL THEN
      DELETE FROM search_postings WHERE lexeme = ANY (tsvector_to_array(v)) AND paper_id = id;
    END IF;
  END
  $f$;

  CREATE FUNCTION paperboy_search_sync() RETURNS trigger LANGUAGE plpgsql AS $f$
  BEGIN
    IF TG_OP <> 'INSERT' THEN
      PERFORM paperboy_search_remove(OLD.id);
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    PERFORM paperboy_search_add(NEW.id, NEW.title, NEW.abstract, NEW.authors);
    RETURN NEW;
  END
  $f$;

  CREATE TRIGGER papers_search_insert AFTER INSERT ON papers
    FOR EACH ROW EXECUTE FUNCTION paperboy_search_sync();
  CREATE TRIGGER papers_search_update AFTER UPDATE OF id, title, abstract, authors ON papers
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.title IS DISTINCT FROM NEW.title
      OR OLD.abstract IS DISTINCT FROM NEW.abstract OR OLD.authors IS DISTINCT FROM NEW.authors)
    EXECUTE FUNCTION paperboy_search_sync();
  CREATE TRIGGER papers_search_delete AFTER DELETE ON papers
    FOR EACH ROW EXECUTE FUNCTION paperboy_search_sync();

  SELECT paperboy_search_add(id, title, abstract, authors) FROM papers ORDER BY id;
`;
