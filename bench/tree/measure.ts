/**
 * Readability figures of the source tree (issue 9): long lines, `as` casts, non-null assertions,
 * long functions, clock seam shapes, HTML escapers and inline zod-issue formatters.
 *
 * Run from the repository root: `node --import tsx bench/tree/measure.ts [--json] [--list]`.
 * Files: every git-tracked `.ts`/`.js`/`.mjs` file outside `node_modules/`, `dist/` and
 * `schemas/json/`. Nothing is timed, so the figures do not depend on the machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** Source folders whose code ships (the rest: tests/, bench/, synth/, demo/, scripts). */
const PRODUCT = /^(node|coordinator|keyholder|shared|schemas|cli)\//;

interface FunctionLength {
  file: string;
  name: string;
  line: number;
  lines: number;
}

interface Figures {
  files: number;
  lines: number;
  linesOver160: number;
  linesOver200: number;
  longestLine: { file: string; line: number; chars: number };
  asCasts: number;
  asCastsWithoutConst: number;
  asCastsInProduct: number;
  nonNullAssertions: number;
  functionsOver80: FunctionLength[];
  functionsOver150: FunctionLength[];
  /** Seams: things that read the clock (a `Clock`, or an optional time that defaults to reading it). */
  clockShapes: Record<string, number>;
  /** Time values: a required `now: Date` handed to a function that only records that instant. */
  timeValues: Record<string, number>;
  htmlEscapers: string[];
  zodIssueFormatters: string[];
}

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '*.ts', '*.js', '*.mjs'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((f) => f !== '' && !/^(node_modules|dist|schemas\/json)\//.test(f) && !f.includes('/node_modules/'));
}

/** A readable name for a function node: declaration name, variable, property or class member. */
function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isStringLiteral(named.name))) {
    const own = named.name.text;
    const cls = node.parent && ts.isClassLike(node.parent) ? node.parent.name?.text : undefined;
    return cls ? `${cls}.${own}` : own;
  }
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) {
    const callee = p.expression.getText(sf).slice(0, 40);
    return `(callback of ${callee})`;
  }
  return '(anonymous)';
}

/** Type text of a parameter or property called `now`/`clock` whose type mentions Date or Clock. */
function clockShape(node: ts.Node, sf: ts.SourceFile): string | null {
  if (!(ts.isParameter(node) || ts.isPropertySignature(node) || ts.isPropertyDeclaration(node))) return null;
  if (!ts.isIdentifier(node.name)) return null;
  const name = node.name.text;
  if (name !== 'now' && name !== 'clock') return null;
  const type = node.type?.getText(sf).replace(/\s+/g, ' ');
  if (!type || !/Date|Clock/.test(type)) return null;
  return `${name}${node.questionToken ? '?' : ''}: ${type}`;
}

function measure(files: readonly string[]): Figures {
  const f: Figures = {
    files: files.length,
    lines: 0,
    linesOver160: 0,
    linesOver200: 0,
    longestLine: { file: '', line: 0, chars: 0 },
    asCasts: 0,
    asCastsWithoutConst: 0,
    asCastsInProduct: 0,
    nonNullAssertions: 0,
    functionsOver80: [],
    functionsOver150: [],
    clockShapes: {},
    timeValues: {},
    htmlEscapers: [],
    zodIssueFormatters: [],
  };
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    f.lines += lines.length;
    lines.forEach((l, i) => {
      const chars = [...l].length;
      if (chars > 160) f.linesOver160++;
      if (chars > 200) f.linesOver200++;
      if (chars > f.longestLine.chars) f.longestLine = { file, line: i + 1, chars };
    });
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
    const visit = (node: ts.Node): void => {
      if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) {
        f.asCasts++;
        const isConst = node.type.getText(sf) === 'const';
        if (!isConst) {
          f.asCastsWithoutConst++;
          if (PRODUCT.test(file)) f.asCastsInProduct++;
        }
      }
      if (ts.isNonNullExpression(node)) f.nonNullAssertions++;
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = lineOf(node.getStart(sf));
        const length = lineOf(node.getEnd()) - start + 1;
        const entry = { file, name: functionName(node, sf), line: start, lines: length };
        if (length > 80) f.functionsOver80.push(entry);
        if (length > 150) f.functionsOver150.push(entry);
      }
      const shape = clockShape(node, sf);
      if (shape) {
        // A required `now: Date` is the instant of one event, read once by the caller (a value,
        // see shared/time/clock.ts); everything else reads or stands in for the clock (a seam).
        const into = shape === 'now: Date' ? f.timeValues : f.clockShapes;
        into[shape] = (into[shape] ?? 0) + 1;
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    // An HTML escaper: code (not a test) that maps '&' to '&amp;'.
    if (!file.startsWith('tests/') && file !== 'bench/tree/measure.ts') {
      const escapes = text.match(/['"`]&amp;['"`]/g)?.length ?? 0;
      if (escapes > 0) f.htmlEscapers.push(file);
      // An inline zod-issue formatter: `issues ... .map((i) => ... i.path.join(...) ...)`.
      if (/\.issues[\s\S]{0,60}?\.map\(\s*\(?\w+\)?\s*=>[^\n]*\.path\.join\(/.test(text))
        f.zodIssueFormatters.push(file);
    }
  }
  const byLength = (a: FunctionLength, b: FunctionLength) => b.lines - a.lines;
  f.functionsOver80.sort(byLength);
  f.functionsOver150.sort(byLength);
  return f;
}

function report(f: Figures, list: boolean): string {
  const out: string[] = [];
  const fn = (x: FunctionLength) => `${x.name} ${x.lines} (${x.file}:${x.line})`;
  out.push(`files: ${f.files}, lines: ${f.lines}`);
  out.push(`lines over 160 chars: ${f.linesOver160}; over 200: ${f.linesOver200}`);
  out.push(`longest line: ${f.longestLine.chars} chars (${f.longestLine.file}:${f.longestLine.line})`);
  out.push(
    `'as' casts: ${f.asCasts} (without 'as const': ${f.asCastsWithoutConst}; of those in node/ ` +
      `coordinator/ keyholder/ shared/ schemas/ cli/: ${f.asCastsInProduct})`,
  );
  out.push(`non-null assertions (!): ${f.nonNullAssertions}`);
  out.push(`functions over 150 lines: ${f.functionsOver150.length}: ${f.functionsOver150.map(fn).join('; ')}`);
  out.push(`functions over 80 lines: ${f.functionsOver80.length}`);
  if (list) for (const x of f.functionsOver80) out.push(`  ${fn(x)}`);
  else out.push(`  ${f.functionsOver80.map((x) => `${x.name} ${x.lines}`).join(', ')}`);
  const shapes = (r: Record<string, number>) =>
    Object.entries(r)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `'${k}' x${n}`)
      .join(', ');
  out.push(`clock seam shapes: ${Object.keys(f.clockShapes).length}: ${shapes(f.clockShapes)}`);
  out.push(`time values (an instant handed to a function, not a seam): ${shapes(f.timeValues)}`);
  out.push(`HTML escapers: ${f.htmlEscapers.length} (${f.htmlEscapers.join(', ')})`);
  out.push(
    `files with an inline zod-issue formatter: ${f.zodIssueFormatters.length} (${f.zodIssueFormatters.join(', ')})`,
  );
  return out.join('\n');
}

const args = process.argv.slice(2);
const figures = measure(trackedFiles());
if (args.includes('--json')) console.log(JSON.stringify(figures, null, 2));
else console.log(report(figures, args.includes('--list')));
