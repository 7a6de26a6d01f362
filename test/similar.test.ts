import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runIngest } from '../src/ingest/run.ts';
import { similarJob } from '../src/jobs/similar-job.ts';
import { similarPapers } from '../src/search/similar.ts';
import { SHARED, tempApp } from './helpers/app.ts';

test('similar papers: more-like-this, cached, refreshed when the paper changes, filled ahead by the job', async () => {
  const app = await tempApp();
  try {
    await runIngest(app, 'jsonl', { inputs: [path.join(SHARED, 'seed/papers.jsonl')] });
    const key = (await app.db.get<{ key: string }>("SELECT key FROM papers WHERE title LIKE 'MELTing point%'"))!.key;
    const a = await similarPapers(app.db, key, { k: 10 });
    assert.ok(a);
    assert.equal(a.method, 'more-like-this');
    assert.equal(a.cached, false);
    assert.equal(a.results.length, 10);
    assert.ok(!a.results.some((r) => r.key === key), 'never itself');
    // The seed collection is about efficient on-device ML: neighbours of a mobile-LLM paper talk about devices or LLMs.
    assert.ok(a.results.slice(0, 5).some((r) => /mobile|device|edge|phone|llm|language model/i.test(`${r.title} ${r.abstract}`)));
    const b = await similarPapers(app.db, key, { k: 10 });
    assert.equal(b!.cached, true);
    assert.deepEqual(b!.results.map((r) => r.key), a.results.map((r) => r.key));
    // A change to the paper's text drops its cached neighbours.
    await app.db.run("UPDATE papers SET abstract = abstract || ' Updated.' WHERE key = ?", [key]);
    assert.equal((await similarPapers(app.db, key, { k: 10 }))!.cached, false);
    assert.equal(await similarPapers(app.db, 'no-such-paper'), undefined);

    const message = await similarJob().run(app, 'similar:test');
    assert.match(message, /118 papers/);
    const n = await app.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM similar_cache');
    assert.equal(n!.n, 119);
  } finally {
    await app.close();
  }
});
