/** The PostgreSQL keyword-search schema (migration 8). */
export const PG_SEARCH_SCHEMA = `SELECT 1;`;
