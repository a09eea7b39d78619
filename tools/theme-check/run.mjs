#!/usr/bin/env node
// Shopify Theme Check for a theme app extension, for CI (no Shopify CLI needed).
//
//   node tools/theme-check/run.mjs <extension dir> [--latest-docs]
//
// Runs @shopify/theme-check-node with the `theme-check:theme-app-extension` config against the dir.
// Prints each offense as `file:line severity check message`, then a summary line:
//   theme check: N offenses (E errors) in <dir>
// Exit status: 0 = no error-severity offense (warnings and infos are printed only); 1 = at least one
// error; 2 = usage or internal failure.
//
// Docs data (Liquid tags/filters/objects, JSON schemas): by default the copy bundled in the pinned
// @shopify/theme-check-docs-updater is used, with no network access, so a run is the same on every
// machine. With --latest-docs the updater first tries to download the latest
// Shopify/theme-liquid-docs into its cache (~/.cache/theme-liquid-docs-nodejs), falling back to the
// cache and then to the bundled copy when offline.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CONFIG = 'theme-check:theme-app-extension';
const SEVERITY = { 0: 'error', 1: 'warning', 2: 'info' };

function usage(message) {
  if (message) console.error(`theme check: ${message}`);
  console.error('usage: node tools/theme-check/run.mjs <extension dir> [--latest-docs]');
  process.exit(2);
}

const args = process.argv.slice(2);
const latestDocs = args.includes('--latest-docs');
const positional = args.filter((a) => !a.startsWith('--'));
const unknown = args.filter((a) => a.startsWith('--') && a !== '--latest-docs');
if (unknown.length) usage(`unknown option ${unknown[0]}`);
if (positional.length !== 1) usage();
const dir = path.resolve(positional[0]);
try {
  if (!statSync(dir).isDirectory()) usage(`${positional[0]} is not a directory`);
} catch {
  usage(`${positional[0]} does not exist`);
}

let scratch = null;
if (!latestDocs) {
  // The docs updater keeps its cache under env-paths('theme-liquid-docs') (XDG_CACHE_HOME on Linux), read
  // when the module loads, and downloads from SHOPIFY_TLD_ROOT when that is set. Pointing the cache at an
  // empty scratch dir and the source at a path that does not exist makes the "download" fail at once,
  // with no network request, so the bundled data is used.
  scratch = mkdtempSync(path.join(tmpdir(), 'theme-check-'));
  process.env.XDG_CACHE_HOME = scratch;
  process.env.SHOPIFY_TLD_ROOT = path.join(scratch, 'offline');
}

let exitCode;
try {
  const { themeCheckRun } = await import('@shopify/theme-check-node');
  const { offenses } = await themeCheckRun(dir, CONFIG, () => {});
  const rows = offenses
    .map((o) => ({
      file: relative(o.uri),
      line: (o.start && typeof o.start.line === 'number' ? o.start.line : 0) + 1,
      severity: SEVERITY[o.severity] || String(o.severity),
      check: o.check,
      message: String(o.message).replace(/\s+/g, ' ').trim(),
      error: o.severity === 0,
    }))
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.check.localeCompare(b.check));
  for (const r of rows) console.log(`${r.file}:${r.line} ${r.severity} ${r.check} ${r.message}`);
  const errors = rows.filter((r) => r.error).length;
  const rel = path.relative(process.cwd(), dir);
  const shown = !rel ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
  console.log(`theme check: ${rows.length} offenses (${errors} errors) in ${shown}`);
  exitCode = errors ? 1 : 0;
} catch (err) {
  console.error(`theme check: failed: ${err && err.stack ? err.stack : err}`);
  exitCode = 2;
} finally {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);

function relative(uri) {
  try {
    const file = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
    return path.relative(dir, file) || file;
  } catch {
    return uri;
  }
}
