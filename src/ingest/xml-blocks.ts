/**
 * Shared helpers for the XML feed parsers: split a document into repeated
 * element blocks (`<entry>…</entry>`, `<record>…</record>`), parse each block
 * on its own with fast-xml-parser, and read values out of the resulting tree.
 *
 * Parsing block by block means one broken or truncated element costs only that
 * element. Nothing here throws on bad input.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { skip, type ParseItem } from './record.ts';

/** A parsed element: a string for text-only elements, else an object of children/attributes. */
export type XmlNode = string | { [key: string]: unknown };

export interface Block {
  /** 1-based position among the blocks of this name. */
  n: number;
  text: string;
  /** False when the element is not closed before the next one starts or the document ends. */
  complete: boolean;
}

export interface Split {
  blocks: Block[];
  /** The document with every block cut out: where feed-level metadata lives. */
  rest: string;
}

const MARKUP_END: Record<string, string> = { '<![CDATA[': ']]>', '<!--': '-->', '<?': '?>' };
/** The rest of a start tag after its name, honouring quoted attribute values that may contain `>`. */
const TAG_REST = /(?:[^>"']|"[^"]*"|'[^']*')*>/y;

/**
 * Finds every `<name …>…</name>` element (any namespace prefix, self-closing allowed),
 * skipping CDATA sections, comments and processing instructions. Elements are not nested.
 */
export function splitBlocks(xml: string, name: string): Split {
  const tags = new RegExp(`<!\\[CDATA\\[|<!--|<\\?|<(/?)(?:[A-Za-z_][\\w.-]*:)?${name}(?=[\\s/>])`, 'g');
  const blocks: Block[] = [];
  let rest = '';
  let restFrom = 0; // start of the text not yet copied to `rest`
  let open = -1; // start of the open block, or -1
  const finish = (end: number, complete: boolean): void => {
    blocks.push({ n: blocks.length + 1, text: xml.slice(open, end), complete });
    restFrom = end;
    open = -1;
  };

  for (let m = tags.exec(xml); m; m = tags.exec(xml)) {
    const closer = MARKUP_END[m[0]];
    if (closer !== undefined) {
      const end = xml.indexOf(closer, tags.lastIndex);
      if (end < 0) break; // unterminated: the document is cut inside it
      tags.lastIndex = end + closer.length;
      continue;
    }
    TAG_REST.lastIndex = tags.lastIndex;
    const tagEnd = TAG_REST.exec(xml) ? TAG_REST.lastIndex : -1;
    if (m[1] === '/') {
      if (open < 0) continue; // stray closing tag: leave it in `rest`
      if (tagEnd < 0) break;
      finish(tagEnd, true);
      tags.lastIndex = tagEnd;
      continue;
    }
    if (open >= 0) finish(m.index, false); // the previous one was never closed
    rest += xml.slice(restFrom, m.index);
    restFrom = m.index;
    open = m.index;
    if (tagEnd < 0) break;
    tags.lastIndex = tagEnd;
    if (xml[tagEnd - 2] === '/') finish(tagEnd, true);
  }
  if (open >= 0) finish(xml.length, false);
  else rest += xml.slice(restFrom);
  return { blocks, rest };
}

/** fast-xml-parser refuses these names outright; renaming them keeps one odd extension element from costing a whole entry. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const safeName = (name: string): string => (RESERVED.has(name) ? `${name}_` : name);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entities are decoded by decodeXml on read: only the five XML ones and numeric
  // references, never anything a DOCTYPE declares.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  transformTagName: safeName,
  transformAttributeName: safeName,
});

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Validates and parses one element. Returns the element's node (its children and
 * attributes) or the parser's complaint. CDATA content becomes ordinary text.
 */
export function parseElement(text: string): { ok: true; node: XmlNode } | { ok: false; reason: string } {
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) return { ok: false, reason: `invalid XML: ${valid.err.msg} (line ${valid.err.line}, col ${valid.err.col})` };
    // One left-to-right pass, so a comment inside CDATA (or the reverse) is read correctly.
    const plain = text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, cdata?: string) =>
      cdata === undefined ? '' : escapeText(cdata),
    );
    if (/<!DOCTYPE/i.test(plain)) return { ok: false, reason: 'invalid XML: DOCTYPE inside an element' };
    const doc: unknown = parser.parse(plain);
    if (!isObject(doc)) return { ok: false, reason: 'invalid XML: no element' };
    const roots = Object.keys(doc);
    const root = roots.length === 1 && roots[0] !== undefined ? doc[roots[0]] : undefined;
    if (typeof root === 'string' || isObject(root)) return { ok: true, node: root };
    return { ok: false, reason: 'invalid XML: expected exactly one element' };
  } catch (e) {
    return { ok: false, reason: `invalid XML: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Splits `xml` into `<name>` blocks and turns each into a ParseItem with `toItem`.
 * Incomplete and invalid blocks become skips; `where` of block n is `${where}#${n}`.
 */
export function parseBlocks(
  xml: string,
  name: string,
  where: string,
  toItem: (node: XmlNode, where: string) => ParseItem,
): { items: ParseItem[]; rest: string } {
  const { blocks, rest } = splitBlocks(xml, name);
  const items = blocks.map((b): ParseItem => {
    const at = `${where}#${b.n}`;
    if (!b.complete) {
      const last = b === blocks[blocks.length - 1];
      return skip(at, last ? `truncated XML: ${name} ${b.n} is incomplete` : `invalid XML: ${name} ${b.n} is not closed before the next one`);
    }
    const parsed = parseElement(b.text);
    if (!parsed.ok) return skip(at, parsed.reason);
    try {
      return toItem(parsed.node, at);
    } catch (e) {
      return skip(at, `unexpected ${name} shape: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return { items, rest };
}

/** The parsed node of the first complete, valid `<name>` element in `xml`. */
export function firstElement(xml: string, name: string): XmlNode | undefined {
  for (const b of splitBlocks(xml, name).blocks) {
    if (!b.complete) continue;
    const parsed = parseElement(b.text);
    if (parsed.ok) return parsed.node;
  }
  return undefined;
}

// ---- reading the tree ----------------------------------------------------------

function isObject(v: unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decodes the five XML entities and numeric character references; leaves anything else as written. */
export function decodeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/g, (whole, dec?: string, hex?: string, named?: string) => {
    if (named !== undefined) return NAMED[named] ?? whole;
    const code = dec !== undefined ? Number(dec) : Number.parseInt(hex ?? '', 16);
    const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff));
    return allowed ? String.fromCodePoint(code) : whole;
  });
}
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** All children called `key` (repeated elements come as an array, single ones not). */
export function children(node: XmlNode | undefined, key: string): XmlNode[] {
  if (!isObject(node) || !Object.hasOwn(node, key)) return [];
  const v = node[key];
  const list = Array.isArray(v) ? (v as unknown[]) : [v];
  return list.filter((c): c is XmlNode => typeof c === 'string' || isObject(c));
}

export function child(node: XmlNode | undefined, key: string): XmlNode | undefined {
  return children(node, key)[0];
}

/** The decoded text content of a node ('' for an empty element, undefined for none). */
export function textOf(node: XmlNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (typeof node === 'string') return decodeXml(node);
  const t = Object.hasOwn(node, '#text') ? node['#text'] : undefined;
  return typeof t === 'string' ? decodeXml(t) : '';
}

/** Text of the first child `key`, or undefined when it is missing or blank. */
export function text(node: XmlNode | undefined, key: string): string | undefined {
  const t = textOf(child(node, key));
  return t !== undefined && t.trim() !== '' ? t : undefined;
}

/** A decoded attribute value (namespace prefix removed). */
export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (!isObject(node)) return undefined;
  const v = Object.hasOwn(node, `@_${name}`) ? node[`@_${name}`] : undefined;
  return typeof v === 'string' ? decodeXml(v) : undefined;
}

/** A non-negative integer written as plain digits, else undefined. */
export function toCount(s: string | undefined): number | undefined {
  const t = s?.trim();
  return t && /^\d{1,15}$/.test(t) ? Number(t) : undefined;
}
