// berth.yaml text to a checked BerthFile, or every problem with its line and column: YAML syntax
// errors from the parser, then spec errors mapped from their path back to the source node.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type YAMLError } from 'yaml';
import { err, type Result } from '../core/result.js';
import { checkBerthFile, type BerthFile } from './berth-file.js';
import type { SpecIssue, SpecPath } from './spec-issue.js';

const YAML_FIXES: Record<string, string> = {
  DUPLICATE_KEY: 'remove one of them',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'line it up with the fields beside it',
  MISSING_CHAR: 'add the missing character',
  MULTILINE_IMPLICIT_KEY: 'put the key and its colon on one line, or quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'put a space after the colon of the key',
};

// Where the parser's own words speak to a library user, not to someone writing berth.yaml.
const YAML_PROBLEMS: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document; keep one, without a "---" line between',
};

function yamlIssue(error: YAMLError, doc: Document, lines: LineCounter): SpecIssue {
  // the parser's message ends with its own "at line X, column Y" and an excerpt; we print both ours
  const problem = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
  const fix = YAML_FIXES[error.code] ?? 'fix the YAML syntax';
  const pos = error.linePos?.[0];
  const at = { line: pos?.line ?? 1, col: pos?.col ?? 1 };
  if (error.code === 'DUPLICATE_KEY') {
    const repeat = repeatedKey(doc.contents, error.pos[0], []);
    if (repeat !== undefined) {
      const first = repeat.firstAt === undefined ? '' : `, first on line ${lines.linePos(repeat.firstAt).line}`;
      return { path: repeat.path, message: `${repeat.key} is given twice in this map${first}; ${fix}`, atKey: true, ...at };
    }
  }
  const message = YAML_PROBLEMS[error.code] ?? `${problem.charAt(0).toLowerCase()}${problem.slice(1)}; ${fix}`;
  return { path: [], message, ...at };
}

/** The key of a map that starts at `offset` (a repeat the parser found), its path, and where it first appears. */
function repeatedKey(node: unknown, offset: number, path: SpecPath): { path: SpecPath; key: string; firstAt?: number } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        const first = node.items.find((p) => p !== pair && isScalar(p.key) && String(p.key.value) === key);
        const firstAt = isScalar(first?.key) ? first.key.range?.[0] : undefined;
        return { path: [...path, key], key, ...(firstAt === undefined ? {} : { firstAt }) };
      }
      const inner = repeatedKey(pair.value, offset, [...path, key]);
      if (inner !== undefined) return inner;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const inner = repeatedKey(item, offset, [...path, i]);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

type LocatedIssue = SpecIssue & { readonly line: number; readonly col: number };

/**
 * Aliases with no anchor before them: the parser accepts them and `toJS` throws. The one people
 * write is no alias at all but an unquoted wildcard host, `host: *.example.com` (a leading `*`
 * makes a YAML alias), so the fix is to quote it. Each is reported and replaced by the string
 * it was written as, so the rest of the file is still checked and every problem is told at once.
 */
function unresolvedAliases(doc: Document, lines: LineCounter): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  visit(doc, {
    Alias(_key, node, ancestors) {
      if (node.resolve(doc) !== undefined) return undefined;
      const written = `*${node.source}`;
      const path = specPathOf([...ancestors, node]);
      issues.push({ path, message: `${written} reads as a YAML alias (a leading * names an anchor); quote it: "${written}"`, ...lines.linePos(node.range?.[0] ?? 0) });
      return new Scalar(written);
    },
  });
  return issues;
}

/** The spec path of the last of `nodes`, from the document down: a key per pair, an index per list. */
function specPathOf(nodes: readonly unknown[]): SpecPath {
  return nodes.flatMap((node, i): (string | number)[] => {
    if (isPair(node)) return [isScalar(node.key) ? String(node.key.value) : '?'];
    return isSeq(node) ? [node.items.indexOf(nodes[i + 1] as (typeof node.items)[number])] : [];
  });
}

/**
 * Where an issue sits in the source: the node at its path, or the key of the nearest ancestor
 * present (a missing field is reported on the map that lacks it).
 */
function locate(doc: Document, lines: LineCounter, path: SpecPath, atKey: boolean): { line: number; col: number } {
  let node: unknown = doc.contents;
  let anchor: { range?: [number, number, number] | null | undefined } | undefined = doc.contents ?? undefined;
  for (const [i, part] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (pair === undefined) break;
      const key = pair.key as { range?: [number, number, number] | null };
      const value = pair.value as typeof anchor | null;
      // an empty value (`KEY:`) has no text of its own to point at, so point at its key
      const empty = !value?.range || value.range[0] === value.range[1];
      anchor = last && !atKey && !empty ? value! : key;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number' && node.items[part] !== undefined) {
      node = node.items[part];
      anchor = node as typeof anchor;
    } else break;
  }
  return lines.linePos(anchor?.range?.[0] ?? 0);
}

export function parseBerthFile(text: string): Result<BerthFile, SpecIssue[]> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) return err(doc.errors.map((error) => yamlIssue(error, doc, lines)));
  const aliases = unresolvedAliases(doc, lines);
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    return err([{ path: [], message: 'the file is empty; write services: { web: { run: node server.js } }', line: 1, col: 1 }]);
  }
  const checked = checkBerthFile(data);
  if (checked.ok && aliases.length === 0) return checked;
  // a field written as an alias is reported once, by its alias issue, not again by what its text fails
  const aliased = new Set(aliases.map((issue) => JSON.stringify(issue.path)));
  const located = (checked.ok ? [] : checked.error)
    .filter((issue) => !aliased.has(JSON.stringify(issue.path)))
    .map((issue) => ({ ...issue, ...locate(doc, lines, issue.path, issue.atKey === true) }));
  return err([...aliases, ...located].sort((a, b) => a.line - b.line || a.col - b.col));
}
