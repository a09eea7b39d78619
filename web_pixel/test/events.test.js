// Payloads built from realistic Shopify standard events. Shapes follow the documented events:
//   https://shopify.dev/docs/api/web-pixels-api/standard-events/checkout_completed
//   https://shopify.dev/docs/api/web-pixels-api/standard-events/product_added_to_cart
// and the types shipped in @shopify/web-pixels-extension@2.18.0 (src/types/PixelEvents/index.ts):
// CheckoutLineItem has `variant` (a ProductVariant), CartLine has `merchandise`; MoneyV2.amount is a number.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import {
  buildEvents,
  EID_NAMESPACE,
  numericId,
  payloadBody,
  sha1,
  uuidv5,
} from '../src/events.js';
import { pixel, RETRY_DELAY_MS } from '../src/pixel.js';

const SHOP = 'demo.myshopify.com';
const DUID = 'a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const context = (href) => ({
  document: { characterSet: 'UTF-8', location: { href }, referrer: '', title: 'Demo' },
  navigator: { cookieEnabled: true, language: 'en-US', languages: ['en-US'], userAgent: 'Mozilla/5.0' },
  window: {},
});
const variant = (id, productId, title, type, amount, currencyCode = 'USD') => ({
  id,
  image: { src: '//cdn.shopify.com/s/files/1/x.jpg' },
  price: { amount, currencyCode },
  product: { id: productId, title, type, untranslatedTitle: title, url: '/products/x', vendor: 'Demo' },
  sku: 'SKU-' + id,
  title: 'Default Title',
  untranslatedTitle: 'Default Title',
});

const checkoutCompleted = () => ({
  id: 'sh-88153c5a-8F2D-4CCA-3231-EF5C032A4C3B',
  clientId: 'xxxxxxxx-0000-4000-8000-000000000000',
  name: 'checkout_completed',
  seq: 3,
  type: 'standard',
  timestamp: '2026-11-22T10:15:30.250Z',
  context: context('https://demo.myshopify.com/checkouts/cn/abc123/thank-you'),
  data: {
    checkout: {
      currencyCode: 'USD',
      email: 'ada@example.com',
      order: { id: 'gid://shopify/Order/5550001', customer: { id: 'gid://shopify/Customer/6021', isFirstOrder: false } },
      token: 'abc123',
      subtotalPrice: { amount: 49.5, currencyCode: 'USD' },
      totalPrice: { amount: 54.0, currencyCode: 'USD' },
      lineItems: [
        {
          id: 'gid://shopify/CheckoutLineItem/1',
          quantity: 2,
          title: 'Linen Shirt',
          finalLinePrice: { amount: 25.0, currencyCode: 'USD' },
          discountAllocations: [],
          properties: [],
          sellingPlanAllocation: null,
          variant: variant('gid://shopify/ProductVariant/41001', 'gid://shopify/Product/7001', 'Linen Shirt', 'Shirts', 12.5),
        },
        {
          id: 'gid://shopify/CheckoutLineItem/2',
          quantity: 1,
          title: 'Canvas Tote',
          finalLinePrice: { amount: 24.5, currencyCode: 'USD' },
          discountAllocations: [],
          properties: [],
          sellingPlanAllocation: null,
          variant: variant('41002', '7002', 'Canvas Tote', null, 24.5),
        },
        { id: 'gid://shopify/CheckoutLineItem/3', quantity: 1, title: 'Custom line', variant: null },
      ],
    },
  },
});

const addedToCart = () => ({
  id: 'sh-0c9e2f1a-1111-4ABC-9DEF-0123456789AB',
  clientId: 'xxxxxxxx-0000-4000-8000-000000000000',
  name: 'product_added_to_cart',
  seq: 2,
  type: 'standard',
  timestamp: '2026-11-22T10:12:00.000Z',
  context: context('https://demo.myshopify.com/products/linen-shirt'),
  data: {
    cartLine: {
      cost: { totalAmount: { amount: 37.5, currencyCode: 'EUR' } },
      merchandise: variant('gid://shopify/ProductVariant/41001', 'gid://shopify/Product/7001', 'Linen Shirt', 'Shirts', 12.5, 'EUR'),
      quantity: 3,
    },
  },
});

const P = 'iglu:com.snowplowanalytics.snowplow';

test('checkout_completed → one transaction event with a product entity per line item and the order', () => {
  const events = buildEvents(checkoutCompleted(), { shop: SHOP, duid: DUID, uid: '6021' });
  assert.deepEqual(events, [
    {
      e: 'ue',
      eid: 'dd7def0e-fe97-5594-be09-365fc54e5ba6', // Python: uuid.uuid5(UUID(EID_NAMESPACE), event.id)
      tv: 'js-slipstream-pixel-0.1',
      p: 'web',
      aid: SHOP,
      dtm: '1795342530250',
      duid: DUID, // and no uid: a browser cannot name a customer
      url: 'https://demo.myshopify.com/checkouts/cn/abc123/thank-you',
      ue_pr:
        '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",' +
        '"data":{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2",' +
        '"data":{"type":"transaction"}}}',
      co:
        '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[' +
        '{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0",' +
        '"data":{"id":"7001","category":"Shirts","price":12.5,"currency":"USD","quantity":2}},' +
        '{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0",' +
        '"data":{"id":"7002","category":"","price":24.5,"currency":"USD","quantity":1}},' +
        '{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/transaction/jsonschema/1-0-0",' +
        '"data":{"transaction_id":"5550001","revenue":54,"currency":"USD","payment_method":"unknown","total_quantity":3}}]}',
    },
  ]);
  const [ev] = events;
  for (const [k, v] of Object.entries(ev)) assert.equal(typeof v, 'string', `${k} is a string`);
  assert.deepEqual(JSON.parse(ev.ue_pr), {
    schema: `${P}/unstruct_event/jsonschema/1-0-0`,
    data: { schema: `${P}.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2`, data: { type: 'transaction' } },
  });
  assert.deepEqual(JSON.parse(ev.co).data.map((x) => x.data.id || x.data.transaction_id), ['7001', '7002', '5550001']); // GIDs stripped
  assert.equal(Date.parse('2026-11-22T10:15:30.250Z'), 1795342530250);
});

test('product_added_to_cart → one add_to_cart event with the one product entity', () => {
  const events = buildEvents(addedToCart(), { shop: SHOP, duid: DUID, uid: '' });
  assert.deepEqual(events, [
    {
      e: 'ue',
      eid: '3ecf694a-e23b-5185-bef7-265f1ed9af9c',
      tv: 'js-slipstream-pixel-0.1',
      p: 'web',
      aid: SHOP,
      dtm: '1795342320000',
      duid: DUID,
      url: 'https://demo.myshopify.com/products/linen-shirt',
      ue_pr:
        '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",' +
        '"data":{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2",' +
        '"data":{"type":"add_to_cart"}}}',
      co:
        '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[' +
        '{"schema":"iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0",' +
        '"data":{"id":"7001","category":"Shirts","price":12.5,"currency":"EUR","quantity":3}}]}',
    },
  ]);
  assert.ok(!('uid' in events[0]));
  for (const v of Object.values(events[0])) assert.equal(typeof v, 'string');
});

test('eid: deterministic UUID v5 of the Shopify event id', () => {
  const a = buildEvents(checkoutCompleted(), { shop: SHOP, duid: DUID })[0].eid;
  const b = buildEvents(checkoutCompleted(), { shop: SHOP, duid: DUID.toUpperCase() })[0].eid; // re-sent
  const c = buildEvents(addedToCart(), { shop: SHOP, duid: DUID })[0].eid;
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.match(a, UUID_RE);
  assert.match(c, UUID_RE);
  assert.equal(a, uuidv5('sh-88153c5a-8F2D-4CCA-3231-EF5C032A4C3B', EID_NAMESPACE));
  assert.equal(EID_NAMESPACE, '5e7bb674-4541-48bb-8d78-b8183c03560b'); // changing it would break de-duplication
  // RFC 9562 / Python's uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
  assert.equal(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
});

test('sha1 matches node:crypto, including multi-block and non-ASCII input', () => {
  for (const s of ['', 'abc', 'x'.repeat(55), 'y'.repeat(56), 'z'.repeat(64), 'é—✓'.repeat(100)]) {
    const bytes = new TextEncoder().encode(s);
    assert.equal(Buffer.from(sha1(bytes)).toString('hex'), createHash('sha1').update(bytes).digest('hex'), s.slice(0, 8));
  }
});

test('no visitor id (a UUID) → nothing to send, whatever customer id is at hand', () => {
  assert.deepEqual(buildEvents(checkoutCompleted(), { shop: SHOP }), []);
  assert.deepEqual(buildEvents(addedToCart(), { shop: SHOP, duid: '', uid: '6021' }), []);
  assert.deepEqual(buildEvents(addedToCart(), { shop: SHOP, duid: '6021' }), []);
  assert.deepEqual(buildEvents(addedToCart(), { shop: SHOP, duid: 'bad id;' }), []);
  assert.equal(buildEvents(addedToCart(), { shop: SHOP, duid: DUID.toUpperCase() })[0].duid, DUID);
});

test('events we do not track, or without products, build nothing', () => {
  assert.deepEqual(buildEvents({ ...addedToCart(), name: 'page_viewed', data: {} }, { shop: SHOP, duid: DUID }), []);
  assert.deepEqual(buildEvents({ ...addedToCart(), data: { cartLine: null } }, { shop: SHOP, duid: DUID }), []);
  const empty = checkoutCompleted();
  empty.data.checkout.lineItems = [{ quantity: 1, variant: null }];
  assert.deepEqual(buildEvents(empty, { shop: SHOP, duid: DUID }), []);
});

test('ids: GIDs stripped to the numeric part', () => {
  assert.equal(numericId('gid://shopify/Product/7001'), '7001');
  assert.equal(numericId('gid://shopify/Customer/6021'), '6021');
  assert.equal(numericId(7001), '7001');
  assert.equal(numericId('gid://shopify/Product/'), '');
  assert.equal(numericId(null), '');
});

test('payloadBody: payload_data 1-0-4 with stm on every event, all strings', () => {
  const events = buildEvents(addedToCart(), { shop: SHOP, duid: DUID });
  const body = JSON.parse(payloadBody(events, 1795342321234.7));
  assert.equal(body.schema, `${P}/payload_data/jsonschema/1-0-4`);
  assert.equal(body.data.length, 1);
  assert.equal(body.data[0].stm, '1795342321234');
  assert.equal(body.data[0].eid, events[0].eid);
  assert.ok(!('stm' in events[0]), 'events are not mutated');
  for (const v of Object.values(body.data[0])) assert.equal(typeof v, 'string');
});

// ---- the pixel: subscriptions, cookie, consent, POST and retry ----

function harness({ cookie = DUID, responses = [], customer = null, consent = true, trackCarts } = {}) {
  const subs = {};
  const calls = [];
  const sleeps = [];
  let privacyCb = null;
  const api = {
    analytics: { subscribe: (name, cb) => { subs[name] = cb; return () => true; } },
    browser: { cookie: { get: async (name) => (name === '_ss_id' ? cookie : '') } },
    settings: { collectorUrl: 'https://app.example.com/t/pk_abc/com.snowplowanalytics.snowplow/tp2', shop: SHOP, trackCarts },
    init: { data: { customer }, customerPrivacy: { analyticsProcessingAllowed: consent } },
    customerPrivacy: { subscribe: (name, cb) => { if (name === 'visitorConsentCollected') privacyCb = cb; } },
  };
  const fetch = async (url, opts) => {
    calls.push({ url, opts });
    const r = responses.shift();
    if (r instanceof Error) throw r;
    return { ok: r >= 200 && r < 300, status: r };
  };
  let t = 1795342400000;
  const p = pixel(api, { fetch, now: () => t++, sleep: async (ms) => { sleeps.push(ms); } });
  return { p, subs, calls, sleeps, setConsent: (ok) => privacyCb({ customerPrivacy: { analyticsProcessingAllowed: ok } }) };
}

test('pixel: carts only when the shop opts in (headless); the theme tracker owns them otherwise', () => {
  assert.deepEqual(Object.keys(harness().subs), ['checkout_completed']);
  assert.deepEqual(Object.keys(harness({ trackCarts: 'true' }).subs).sort(),
    ['checkout_completed', 'product_added_to_cart']);
});

test('pixel: subscribes to checkout_completed and POSTs the tp2 body', async () => {
  const h = harness({ responses: [200], customer: { id: 'gid://shopify/Customer/42' } });
  assert.deepEqual(Object.keys(h.subs), ['checkout_completed']);
  assert.equal(await h.p.handle(checkoutCompleted()), true);
  assert.equal(h.calls.length, 1);
  const { url, opts } = h.calls[0];
  assert.equal(url, 'https://app.example.com/t/pk_abc/com.snowplowanalytics.snowplow/tp2');
  assert.equal(opts.method, 'POST');
  assert.equal(opts.keepalive, true);
  assert.deepEqual(opts.headers, { 'Content-Type': 'application/json; charset=UTF-8' });
  const body = JSON.parse(opts.body);
  assert.ok(!('uid' in body.data[0])); // the logged-in customer is not the browser's to name
  assert.equal(body.data[0].duid, DUID);
  assert.equal(body.data[0].stm, '1795342400000');
});

test('pixel: one retry on network error / 5xx / 429, none on 400; never throws', async () => {
  let h = harness({ responses: [new TypeError('Failed to fetch'), 200] });
  assert.equal(await h.p.handle(addedToCart()), true);
  assert.equal(h.calls.length, 2);
  assert.equal(h.sleeps.length, 1);
  assert.ok(h.sleeps[0] >= RETRY_DELAY_MS);
  assert.notEqual(JSON.parse(h.calls[0].opts.body).data[0].stm, JSON.parse(h.calls[1].opts.body).data[0].stm);

  h = harness({ responses: [503, 429] });
  assert.equal(await h.p.handle(addedToCart()), false);
  assert.equal(h.calls.length, 2, 'only one retry');

  h = harness({ responses: [400] });
  assert.equal(await h.p.handle(addedToCart()), false);
  assert.equal(h.calls.length, 1);

  h = harness({ responses: [new Error('boom'), new Error('boom')] });
  assert.equal(await h.p.handle(addedToCart()), false);
  assert.equal(await h.p.handle(null), false);
});

test('pixel: no visitor cookie → no request (customers arrive as orders/create); consent withdrawn → no request', async () => {
  let h = harness({ cookie: '', responses: [200] });
  assert.equal(await h.p.handle(addedToCart()), false);
  assert.equal(h.calls.length, 0);

  h = harness({ cookie: '', responses: [200], customer: { id: 'gid://shopify/Customer/42' } });
  assert.equal(await h.p.handle(checkoutCompleted()), false);
  assert.equal(h.calls.length, 0);

  h = harness({ responses: [200, 200] });
  h.setConsent(false);
  assert.equal(await h.p.handle(addedToCart()), false);
  h.setConsent(true);
  assert.equal(await h.p.handle(addedToCart()), true);
  assert.equal(h.calls.length, 1);
});
