import type { Dialect, Sql } from './sql.ts';

/**
 * Ordered, append-only. Each migration has the SQL for every dialect it supports;
 * never edit one that has shipped: add another.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres?: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'papers, signals, sources, ingest runs, jobs',
    sqlite: `
      CREATE TABLE papers (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        arxiv_id TEXT UNIQUE,
        doi TEXT,
        title_key TEXT NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        primary_category TEXT,
        submitted_at TEXT,
        updated_at TEXT,
        version INTEGER NOT NULL DEFAULT 0,
        versions TEXT NOT NULL DEFAULT '[]',
        journal_ref TEXT,
        comments TEXT,
        links TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
      );
      CREATE INDEX papers_doi ON papers (doi) WHERE doi IS NOT NULL;
      CREATE INDEX papers_title_key ON papers (title_key);
      CREATE INDEX papers_primary_category ON papers (primary_category, submitted_at);
      CREATE INDEX papers_submitted_at ON papers (submitted_at);

      CREATE TABLE paper_sources (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        first_seen_at TEXT NOT NULL,
        PRIMARY KEY (paper_id, source)
      ) WITHOUT ROWID;
      CREATE INDEX paper_sources_source ON paper_sources (source);

      CREATE TABLE signals (
        id INTEGER PRIMARY KEY,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        observed_at TEXT NOT NULL,
        UNIQUE (paper_id, source, name, observed_at)
      );
      CREATE INDEX signals_name_time ON signals (name, observed_at);

      CREATE TABLE ingest_runs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        args TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        read INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        errors TEXT NOT NULL DEFAULT '[]',
        message TEXT
      );
      CREATE INDEX ingest_runs_source ON ingest_runs (source, started_at);

      CREATE TABLE jobs (
        name TEXT PRIMARY KEY,
        next_run_at TEXT NOT NULL,
        locked_by TEXT,
        locked_until TEXT,
        last_started_at TEXT,
        last_finished_at TEXT,
        last_status TEXT,
        last_message TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'dedupe lookups answered from the index',
    sqlite: `
      DROP INDEX papers_doi;
      DROP INDEX papers_title_key;
      CREATE INDEX papers_doi ON papers (doi, arxiv_id) WHERE doi IS NOT NULL;
      CREATE INDEX papers_title_key ON papers (title_key, arxiv_id);
    `,
  },
  {
    version: 3,
    name: 'full-text search kept in sync by triggers; has_code',
    sqlite: `
      CREATE VIRTUAL TABLE papers_fts USING fts5 (
        title, abstract, authors,
        content = 'papers', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
        INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (new.id, new.title, new.abstract, new.authors);
      END;
      CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors) VALUES ('delete', old.id, old.title, old.abstract, old.authors);
      END;
      CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors) VALUES ('delete', old.id, old.title, old.abstract, old.authors);
        INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (new.id, new.title, new.abstract, new.authors);
      END;
      INSERT INTO papers_fts (papers_fts) VALUES ('rebuild');
      ALTER TABLE papers ADD COLUMN has_code INTEGER GENERATED ALWAYS AS (instr(links, '"kind":"code"') > 0) VIRTUAL;
    `,
  },
  {
    version: 4,
    name: 'similar papers cache',
    sqlite: `
      CREATE TABLE similar_cache (
        paper_id INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        method TEXT NOT NULL,
        corpus_size INTEGER NOT NULL,
        computed_at TEXT NOT NULL,
        neighbours TEXT NOT NULL
      );
      CREATE VIRTUAL TABLE papers_fts_vocab USING fts5vocab (papers_fts, row);
      CREATE TRIGGER similar_cache_stale AFTER UPDATE OF title, abstract ON papers BEGIN
        DELETE FROM similar_cache WHERE paper_id = new.id;
      END;
    `,
  },
  {
    version: 5,
    name: 'paper vectors, keyed by embedding model',
    sqlite: `
      CREATE TABLE paper_vectors (
        model TEXT NOT NULL,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        dims INTEGER NOT NULL,
        encoding TEXT NOT NULL DEFAULT 'int8' CHECK (encoding IN ('int8', 'f16', 'f32')),
        vector BLOB NOT NULL,
        text_hash TEXT NOT NULL,
        embedded_at TEXT NOT NULL,
        PRIMARY KEY (model, paper_id)
      ) WITHOUT ROWID;
      CREATE INDEX paper_vectors_paper ON paper_vectors (paper_id);
    `,
  },
  {
    version: 6,
    name: 'votes and the stored trending score',
    sqlite: `
      CREATE TABLE votes (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        voter TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (paper_id, voter)
      ) WITHOUT ROWID;
      CREATE INDEX votes_voter ON votes (voter, paper_id);
      CREATE INDEX votes_created_at ON votes (created_at);
      CREATE TABLE trending (
        paper_id INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        hot REAL NOT NULL,
        points REAL NOT NULL,
        trending_at TEXT NOT NULL,
        votes INTEGER NOT NULL DEFAULT 0,
        votes_24h INTEGER NOT NULL DEFAULT 0,
        upvotes REAL NOT NULL DEFAULT 0,
        comments REAL NOT NULL DEFAULT 0,
        stars REAL NOT NULL DEFAULT 0,
        star_growth REAL NOT NULL DEFAULT 0,
        computed_at TEXT NOT NULL
      );
      -- Trending lists only papers someone showed interest in (points > 0); "new" lists them all.
      CREATE INDEX trending_hot ON trending (hot DESC) WHERE points > 0;
      CREATE INDEX trending_points ON trending (points DESC, hot DESC) WHERE points > 0;
      CREATE INDEX trending_active_at ON trending (trending_at) WHERE points > 0;
      CREATE INDEX trending_at ON trending (trending_at);
    `,
  },
  {
    version: 7,
    name: 'subscribers, the digest outbox, papers sent, suppressions and bounces',
    sqlite: `
      CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'failing')),
        nonce TEXT NOT NULL,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        delivery_hour INTEGER NOT NULL DEFAULT 7 CHECK (delivery_hour BETWEEN 0 AND 23),
        frequency TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly', 'paused')),
        weekday INTEGER NOT NULL DEFAULT 1 CHECK (weekday BETWEEN 1 AND 7),
        per_digest INTEGER NOT NULL DEFAULT 10 CHECK (per_digest BETWEEN 1 AND 50),
        include_new INTEGER NOT NULL DEFAULT 1,
        skip_empty INTEGER NOT NULL DEFAULT 1,
        topics TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT 'site',
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        unsubscribed_at TEXT,
        last_issue_date TEXT,
        next_due_at TEXT,
        next_issue_date TEXT,
        hard_bounces INTEGER NOT NULL DEFAULT 0,
        last_sign_up_mail_at TEXT
      );
      CREATE INDEX subscribers_due ON subscribers (next_due_at) WHERE status = 'confirmed';
      CREATE INDEX subscribers_pending ON subscribers (created_at) WHERE status = 'pending';
      CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        issue_date TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        locked_by TEXT,
        locked_until TEXT,
        message_id TEXT NOT NULL,
        paper_ids TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (subscriber_id, issue_date)
      );
      CREATE INDEX digests_claim ON digests (next_attempt_at) WHERE status IN ('pending', 'sending');
      CREATE INDEX digests_day ON digests (issue_date, status);
      CREATE TABLE digest_papers (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        issue_date TEXT NOT NULL,
        PRIMARY KEY (subscriber_id, paper_id)
      ) WITHOUT ROWID;
      CREATE TABLE suppressions (
        email_key TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE bounces (
        id INTEGER PRIMARY KEY,
        email_key TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint')),
        detail TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
      );
      CREATE INDEX bounces_email ON bounces (email_key, created_at);
    `,
  },
];

export const latestVersion = migrations.reduce((m, x) => Math.max(m, x.version), 0);

async function ensureTable(sql: Sql): Promise<void> {
  await sql.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
  );
}

export async function currentVersion(sql: Sql): Promise<number> {
  await ensureTable(sql);
  const row = await sql.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return row?.v ?? 0;
}

/** Applies every pending migration, each in its own transaction. Returns the versions applied. */
export async function migrate(sql: Sql, dialect: Dialect = sql.dialect): Promise<number[]> {
  const applied: number[] = [];
  const from = await currentVersion(sql);
  if (from > latestVersion) {
    throw new Error(`db: database schema is version ${from}, newer than this paperboy (${latestVersion}); upgrade paperboy`);
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    const text = dialect === 'sqlite' ? m.sqlite : m.postgres;
    if (text === undefined) throw new Error(`db: migration ${m.version} has no ${dialect} version`);
    await sql.tx(async (tx) => {
      await tx.exec(text);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
    });
    applied.push(m.version);
  }
  return applied;
}
