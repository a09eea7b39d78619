// The storefront scripts ship as they are written (no bundler), so they cannot import the pixel's
// src/constants.js: each keeps its own copy of the protocol's names between two marker lines. These
// tests hold the copies to one set of names and values.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

import * as pixelNames from '../src/constants.js';

const ASSETS = new URL('../../theme_extension/assets/', import.meta.url);
const START = '// ---- protocol names:';
const END = '// ---- end of protocol names ----';
// Names only the pixel needs: purchases are reported by the pixel alone.
const PIXEL_ONLY = ['TRANSACTION', 'TRANSACTION_SCHEMA'];

// Regular expressions from another realm never deep-equal each other: compare their source and flags.
const comparable = (v) => (Object.prototype.toString.call(v) === '[object RegExp]' ? `/${v.source}/${v.flags}` : v);

/** The protocol names a storefront script declares, with their values. */
function storefrontNames(file) {
  const text = readFileSync(new URL(file, ASSETS), 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  assert.ok(from >= 0 && to > from, `${file}: no "protocol names" block`);
  const block = text.slice(from, to);
  const statements = block.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//'));
  const names = statements.map((l) => /^\s*const ([A-Z][A-Z0-9_]*) = /.exec(l)?.[1]);
  assert.ok(names.every(Boolean), `${file}: the block holds only one-line \`const NAME = value\`: ${statements}`);
  // Plain declarations that refer only to each other: evaluated alone, in an empty context.
  const values = vm.runInNewContext(`${block}\n({ ${names.join(', ')} })`);
  return Object.fromEntries(names.map((n) => [n, comparable(values[n])]));
}

const pixel = () => Object.fromEntries(Object.entries(pixelNames).map(([n, v]) => [n, comparable(v)]));

test('the tracker and the pixel give the same protocol names the same values', () => {
  const tracker = storefrontNames('tracker.js');
  const shared = Object.keys(pixel()).filter((n) => !PIXEL_ONLY.includes(n));
  assert.deepEqual(shared.filter((n) => !(n in tracker)), [], 'pixel names missing from tracker.js');
  for (const name of shared) assert.deepEqual(tracker[name], pixel()[name], name);
  // the names both carry, so that a block emptied by mistake cannot pass
  assert.deepEqual(shared.sort(), [
    'ACTION_SCHEMA', 'ADD_TO_CART', 'CONTENT_TYPE', 'CONTEXTS_SCHEMA', 'CURRENCY_RE', 'NO_CURRENCY',
    'PAYLOAD_SCHEMA', 'PRODUCT_SCHEMA', 'SNOWPLOW', 'UE_SCHEMA', 'VISITOR_COOKIE', 'VISITOR_ID_RE',
  ]);
  assert.equal(tracker.VISITOR_COOKIE, '_ss_id');
  assert.equal(tracker.PAYLOAD_SCHEMA, 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4');
});

test('recommendations.js names events as the tracker does', () => {
  const tracker = storefrontNames('tracker.js');
  const recs = storefrontNames('recommendations.js');
  assert.deepEqual(Object.keys(recs).sort(), [
    'ADD_TO_CART', 'CONFIG_ID', 'DEFAULT_PLACEMENT', 'PRODUCT_VIEW', 'READY_EVENT', 'REC_CLICK',
    'REC_IMPRESSION', 'SENT_EVENT',
  ]);
  for (const [name, value] of Object.entries(recs)) assert.equal(value, tracker[name], name);
});
