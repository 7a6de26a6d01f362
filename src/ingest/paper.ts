import type { PaperLink, PaperVersion, SignalObservation } from './record.ts';

/** A paper after normalisation: what the store keeps. */
export interface Paper {
  /** Public, stable id: arXiv id, else doi:…, else t:<title hash>. */
  key: string;
  arxivId: string | null;
  doi: string | null;
  titleKey: string;
  title: string;
  abstract: string;
  authors: string[];
  /** Primary first. */
  categories: string[];
  submittedAt: string | null;
  updatedAt: string | null;
  /** The version the title and abstract belong to; 0 when unknown. */
  version: number;
  versions: PaperVersion[];
  journalRef: string | null;
  comments: string | null;
  links: PaperLink[];
}

/** A normalised incoming record: the paper plus the signals observed with it. */
export interface Incoming {
  where: string;
  paper: Paper;
  signals: SignalObservation[];
}
