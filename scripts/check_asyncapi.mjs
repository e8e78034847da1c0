#!/usr/bin/env node
// Validates an AsyncAPI document with the official parser (@asyncapi/parser, pinned in
// tools/package-lock.json; install it with `npm ci --prefix tools`).
//
//   node scripts/check_asyncapi.mjs contracts/asyncapi.yaml [more.yaml ...]
//
// Prints (on stdout) every diagnostic (errors, warnings, infos, hints) as `file:line:col severity code: message (at path)`.
// Exits 1 if any document has a diagnostic of severity error (or cannot be read or parsed),
// 2 on wrong usage or when the tools are not installed, 0 otherwise. Warnings do not fail.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = path.join(repoRoot, 'tools');

function loadParser() {
  const marker = path.join(toolsDir, 'node_modules', '@asyncapi', 'parser', 'package.json');
  if (!existsSync(marker)) {
    console.error(`check_asyncapi: @asyncapi/parser is not installed (${marker} is missing).`);
    console.error(`  Run: npm ci --prefix tools   (from ${repoRoot})`);
    process.exit(2);
  }
  // Resolve from tools/ whatever the current directory is.
  const require = createRequire(path.join(toolsDir, 'package.json'));
  return require('@asyncapi/parser');
}

const SEVERITY = ['error', 'warning', 'info', 'hint'];

function format(file, d) {
  const start = d.range && d.range.start;
  const where = start ? `${file}:${start.line + 1}:${start.character + 1}` : file;
  const at = d.path && d.path.length ? ` (at ${d.path.join('.')})` : '';
  const source = d.source && path.resolve(d.source) !== path.resolve(file) ? ` [in ${d.source}]` : '';
  return `${where} ${SEVERITY[d.severity] ?? `severity-${d.severity}`} ${d.code}: ${d.message}${at}${source}`;
}

async function checkOne(api, file) {
  if (!existsSync(file)) {
    console.log(`${file}: no such file`);
    return false;
  }
  const parser = new api.Parser();
  let output;
  try {
    // parse() runs the full validation (spec schema + semantic rules) and also parses the
    // message payload schemas; fromFile() sets the source so relative $refs resolve from the file.
    output = await api.fromFile(parser, file).parse();
  } catch (err) {
    console.log(`${file}: the parser failed: ${err && err.stack ? err.stack : err}`);
    return false;
  }
  const diagnostics = [...output.diagnostics].sort(
    (a, b) => a.severity - b.severity ||
      ((a.range?.start?.line ?? 0) - (b.range?.start?.line ?? 0)) ||
      String(a.code).localeCompare(String(b.code)),
  );
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    if (d.severity === api.DiagnosticSeverity.Error) errors += 1;
    else if (d.severity === api.DiagnosticSeverity.Warning) warnings += 1;
    console.log(format(file, d));
  }
  if (errors === 0 && !output.document) {
    console.log(`${file}: the parser returned no document (and no error diagnostic)`);
    errors += 1;
  }
  const others = diagnostics.length - errors - warnings;
  const summary = `${file}: ${errors} error(s), ${warnings} warning(s)` + (others > 0 ? `, ${others} info/hint` : '');
  if (errors > 0) {
    console.log(`${summary}: INVALID`);
    return false;
  }
  const doc = output.document;
  console.log(`${summary}: valid AsyncAPI ${doc.version()} ` +
    `(${doc.channels().length} channel(s), ${doc.operations().length} operation(s), ` +
    `${doc.messages().length} message(s))`);
  return true;
}

async function main(argv) {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) {
    console.error('usage: node scripts/check_asyncapi.mjs FILE.yaml [FILE.yaml ...]');
    process.exit(argv.length === 0 ? 2 : 0);
  }
  const api = loadParser();
  let ok = true;
  for (const file of argv) {
    ok = (await checkOne(api, file)) && ok;
  }
  process.exit(ok ? 0 : 1);
}

await main(process.argv.slice(2));
