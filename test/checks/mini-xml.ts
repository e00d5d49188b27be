/**
 * A deliberately small, strict XML reader for the JUnit tests: one pass over the characters,
 * elements with attributes, text, the XML declaration, and the five predefined entities plus
 * numeric references. Anything else (mismatched or unclosed tags, a bare `&` or `<`, duplicate
 * attributes, characters XML 1.0 forbids, text outside the root) throws with the offset.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`XML: ${what} at offset ${i}: ${JSON.stringify(source.slice(i, i + 30))}`);
  };
  if (FORBIDDEN.test(source)) {
    i = source.search(FORBIDDEN);
    fail('a character XML 1.0 forbids');
  }
  const skipSpace = (): void => {
    while (i < source.length && /\s/.test(source[i] as string)) i++;
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(source);
    if (!m) fail('a name expected');
    i += (m as RegExpExecArray)[0].length;
    return (m as RegExpExecArray)[0];
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);|&/g, (whole, ref: string | undefined) => {
      if (ref === undefined) return fail('a bare "&"');
      if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
      if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
      const value = ENTITIES[ref];
      if (value === undefined) return fail(`an unknown entity &${ref};`);
      return value;
    });

  skipSpace();
  if (source.startsWith('<?xml', i)) {
    const end = source.indexOf('?>', i);
    if (end < 0) fail('an unclosed XML declaration');
    i = end + 2;
  }
  skipSpace();

  const element = (): XmlElement => {
    if (source[i] !== '<') fail('"<" expected');
    i++;
    const tag = name();
    const attributes: Record<string, string> = {};
    for (;;) {
      skipSpace();
      if (source.startsWith('/>', i)) {
        i += 2;
        return { name: tag, attributes, children: [], text: '' };
      }
      if (source[i] === '>') {
        i++;
        break;
      }
      const attr = name();
      skipSpace();
      if (source[i] !== '=') fail('"=" expected');
      i++;
      skipSpace();
      const quote = source[i];
      if (quote !== '"' && quote !== "'") fail('a quoted value expected');
      const end = source.indexOf(quote as string, i + 1);
      if (end < 0) fail('an unclosed attribute value');
      const raw = source.slice(i + 1, end);
      if (raw.includes('<')) fail('"<" inside an attribute value');
      if (attr in attributes) fail(`attribute ${attr} twice`);
      attributes[attr] = decode(raw);
      i = end + 1;
    }
    const node: XmlElement = { name: tag, attributes, children: [], text: '' };
    for (;;) {
      const next = source.indexOf('<', i);
      if (next < 0) fail(`element <${tag}> is not closed`);
      const raw = source.slice(i, next);
      if (raw.includes(']]>')) fail('"]]>" in text');
      node.text += decode(raw);
      i = next;
      if (source.startsWith('</', i)) {
        i += 2;
        const closing = name();
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`);
        skipSpace();
        if (source[i] !== '>') fail('">" expected');
        i++;
        return node;
      }
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i);
        if (end < 0) fail('an unclosed comment');
        i = end + 3;
        continue;
      }
      node.children.push(element());
    }
  };

  const root = element();
  skipSpace();
  if (i !== source.length) fail('content after the root element');
  return root;
}

/** Every element named `name` under `root` (depth first). */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (e.name === name) out.push(e);
    e.children.forEach(walk);
  };
  walk(root);
  return out;
}
