/**
 * The contract between source parsers and the ingest pipeline.
 *
 * A parser turns one input document (a file, an HTTP response body) into
 * ParseItems: either a PaperRecord it understood, or a skip with a reason.
 * Parsers never throw on bad input; they never touch the database.
 */

export type LinkKind = 'abs' | 'pdf' | 'html' | 'code' | 'project' | 'doi' | 'other';

export interface PaperLink {
  kind: LinkKind;
  url: string;
}

export interface PaperVersion {
  /** 1-based version number (v1, v2, …). */
  version: number;
  /** ISO 8601 date-time (UTC) when this version was submitted. */
  date: string;
}

export interface SignalObservation {
  /** e.g. hf_upvotes, hf_comments, github_stars */
  name: string;
  value: number;
  /** ISO 8601 date-time (UTC) of the observation. */
  observedAt: string;
}

export interface PaperRecord {
  /** Any form a person pastes: 2401.01234v2, arXiv:…, abs/pdf URL, hep-th/9901001. Normalised by the pipeline. */
  arxivId?: string | undefined;
  /** The version the title/abstract belong to, when known. */
  version?: number | undefined;
  title: string;
  abstract?: string | undefined;
  /** Ordered as on the paper. */
  authors?: string[] | undefined;
  /** Primary category first. */
  categories?: string[] | undefined;
  /** ISO date-time of first publication (v1). */
  submittedAt?: string | undefined;
  /** ISO date-time of the latest version known to this record. */
  updatedAt?: string | undefined;
  versions?: PaperVersion[] | undefined;
  doi?: string | undefined;
  journalRef?: string | undefined;
  comments?: string | undefined;
  links?: PaperLink[] | undefined;
  signals?: SignalObservation[] | undefined;
}

export type ParseItem =
  | { ok: true; where: string; record: PaperRecord }
  | { ok: false; where: string; reason: string };

export function skip(where: string, reason: string): ParseItem {
  return { ok: false, where, reason };
}

export function item(where: string, record: PaperRecord): ParseItem {
  return { ok: true, where, record };
}
