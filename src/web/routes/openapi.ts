/** The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json. */
export function openApiDocument(baseUrl: string): Record<string, unknown> {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
  const error = (description: string) => ({ description, ...json(ref('Error')) });
  const limit = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } };
  const offset = { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 10000, default: 0 } };
  const id = {
    name: 'id',
    in: 'path',
    required: true,
    description: 'A paper key: an arXiv id without version (2401.01234, hep-th/9901001), or doi:… / t:… for papers without one. Any pasted arXiv form is accepted.',
    schema: { type: 'string' },
  };
  const str = { type: 'string' };
  const strs = { type: 'array', items: str };
  const nullableStr = { type: ['string', 'null'] };
  const trending = {
    type: 'object',
    properties: {
      points: { type: 'number' },
      hot: { type: 'number' },
      trendingAt: str,
      votes: { type: 'integer' },
      upvotes: { type: 'number' },
      comments: { type: 'number' },
      stars: { type: 'number' },
      starGrowth: { type: 'number' },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'paperboy API',
      version: '1',
      description:
        'Trending research papers, search and similar papers. Errors are shaped {"error":{"code","message"}}; lists are paginated with limit (at most 100) and offset.',
    },
    servers: [{ url: baseUrl }],
    paths: {
      '/api/papers': {
        get: {
          summary: 'Papers, newest first',
          parameters: [limit, offset],
          responses: { 200: { description: 'A page of papers', ...json({ type: 'object', properties: { papers: { type: 'array', items: ref('Paper') }, limit: { type: 'integer' }, offset: { type: 'integer' }, total: { type: 'integer' } } }) } },
        },
      },
      '/api/papers/{id}': {
        get: {
          summary: 'One paper with its trending figures',
          parameters: [id],
          responses: { 200: { description: 'The paper', ...json({ allOf: [ref('Paper'), { type: 'object', properties: { trending: { oneOf: [trending, { type: 'null' }] } } }] }) }, 404: error('No such paper') },
        },
      },
      '/api/papers/{id}/similar': {
        get: {
          summary: 'The papers most similar to one paper',
          parameters: [id, { ...limit, schema: { type: 'integer', minimum: 1, maximum: 50, default: 10 } }],
          responses: {
            200: { description: 'Similar papers', ...json({ type: 'object', properties: { id: str, method: { enum: ['vector', 'more-like-this'] }, results: { type: 'array', items: { allOf: [ref('Paper'), { type: 'object', properties: { score: { type: 'number' } } }] } } } }) },
            404: error('No such paper'),
          },
        },
      },
      '/api/papers/{id}/vote': {
        post: {
          summary: 'Vote for a paper, or withdraw the vote',
          description: 'Needs the visitor cookie the site sets and its CSRF token in the x-csrf-token header (as the site\'s own pages send). One vote per visitor per paper; rate limited.',
          parameters: [id, { name: 'x-csrf-token', in: 'header', required: true, schema: str }],
          requestBody: { required: true, ...json({ type: 'object', required: ['vote'], properties: { vote: { type: 'boolean' } } }) },
          responses: {
            200: { description: 'The vote count after the change', ...json({ type: 'object', properties: { id: str, votes: { type: 'integer' }, voted: { type: 'boolean' } } }) },
            400: error('Bad body'),
            403: error('Missing cookie or CSRF token'),
            404: error('No such paper'),
            429: error('Too many votes'),
          },
        },
      },
      '/api/search': {
        get: {
          summary: 'Search by keyword and by meaning',
          description: 'The query language: words (all required), "phrases", -exclude, prefix*, author:"Name", cat:cs.CV, since:YYYY-MM-DD, until:, has:code; an arXiv id or URL finds that paper.',
          parameters: [{ name: 'q', in: 'query', required: true, schema: str }, limit, offset, { name: 'mode', in: 'query', schema: { enum: ['auto', 'keyword', 'vector', 'hybrid'], default: 'auto' } }],
          responses: { 200: { description: 'Results', ...json(ref('SearchAnswer')) }, 400: error('Missing query') },
        },
      },
      '/api/trending': {
        get: {
          summary: 'Trending papers of a window',
          parameters: [{ name: 'window', in: 'query', schema: { enum: ['trending', 'day', 'week', 'month', 'new', 'top'], default: 'trending' } }, limit, offset],
          responses: {
            200: {
              description: 'A page of trending papers',
              ...json({
                type: 'object',
                properties: {
                  window: str,
                  from: nullableStr,
                  to: nullableStr,
                  total: { type: 'integer' },
                  limit: { type: 'integer' },
                  offset: { type: 'integer' },
                  results: { type: 'array', items: { allOf: [ref('Paper'), { type: 'object', properties: { rank: { type: 'integer' }, trending } }] } },
                },
              }),
            },
            400: error('Unknown window'),
          },
        },
      },
    },
    components: {
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: str, message: str } } } },
        Link: { type: 'object', properties: { kind: { enum: ['abs', 'pdf', 'doi', 'code', 'project', 'hf', 'other'] }, url: str } },
        Paper: {
          type: 'object',
          properties: {
            key: str,
            arxivId: nullableStr,
            doi: nullableStr,
            title: str,
            abstract: str,
            authors: strs,
            categories: strs,
            primaryCategory: nullableStr,
            submittedAt: nullableStr,
            updatedAt: nullableStr,
            links: { type: 'array', items: ref('Link') },
          },
        },
        SearchAnswer: {
          type: 'object',
          properties: {
            query: str,
            mode: { enum: ['keyword', 'vector', 'hybrid', 'id', 'filters'] },
            match: { enum: ['and', 'or'] },
            total: { type: 'integer' },
            totalCapped: { type: 'boolean' },
            limit: { type: 'integer' },
            offset: { type: 'integer' },
            ignored: strs,
            scope: { type: 'object', properties: { newest: { type: 'integer' }, of: { type: 'integer' } } },
            facets: { type: 'object' },
            vector: { type: 'object' },
            results: {
              type: 'array',
              items: {
                type: 'object',
                properties: { id: str, title: str, authors: strs, snippet: { type: 'string', description: 'HTML-escaped, with <mark> around matches' }, score: { type: 'number' }, categories: strs, submittedAt: nullableStr, updatedAt: nullableStr, links: { type: 'array', items: ref('Link') } },
              },
            },
          },
        },
      },
    },
  };
}
