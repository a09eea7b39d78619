/**
 * Shopify standard events → Snowplow tracker-protocol (tp2) events. Pure: no Shopify globals, no clock,
 * no randomness, so the same Shopify event always gives the same payload (docs/collector-protocol.md).
 *
 *   checkout_completed     → e=ue, snowplow_ecommerce_action {type: "transaction"}, one product entity per line
 *                            and a transaction entity naming Shopify's order id (how a guest's redaction finds them)
 *   product_added_to_cart  → e=ue, snowplow_ecommerce_action {type: "add_to_cart"}, the one product entity
 *
 * Event shapes: @shopify/web-pixels-extension types (src/types/PixelEvents/index.ts) and
 * https://shopify.dev/docs/api/web-pixels-api/standard-events. Every tp2 value is a string
 * (payload_data 1-0-4 is strict). `eid` is a name-based UUID (v5, SHA-1) of Shopify's event id, so a
 * re-sent pixel event de-duplicates downstream.
 *
 * Identity: only the visitor id (`duid`, our tracker's first-party UUID) is sent. A browser cannot name a
 * customer (the collector ignores `uid`); logged-in customers' purchases arrive signed, as orders/create.
 */

import {
  ACTION_SCHEMA,
  ADD_TO_CART,
  CONTEXTS_SCHEMA,
  CURRENCY_RE,
  NO_CURRENCY,
  PAYLOAD_SCHEMA,
  PRODUCT_SCHEMA,
  TRANSACTION,
  TRANSACTION_SCHEMA,
  UE_SCHEMA,
  VISITOR_ID_RE,
} from './constants.js';

export const TRACKER_VERSION = 'js-slipstream-pixel-0.1';
/** Fixed namespace of our event ids: uuid5(EID_NAMESPACE, shopifyEvent.id). Never change it. */
export const EID_NAMESPACE = '5e7bb674-4541-48bb-8d78-b8183c03560b';
/** The Shopify standard events we turn into tp2 events. */
export const CHECKOUT_COMPLETED = 'checkout_completed';
export const PRODUCT_ADDED_TO_CART = 'product_added_to_cart';

const GID_RE = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)(?:\?.*)?$/;

const sd = (schema, data) => ({ schema, data });
const str = (v, max) => (v == null ? '' : String(v)).slice(0, max || 255);
const money = (v) => Math.max(0, Math.min(9999999, Math.round((Number(v) || 0) * 100) / 100));

/** "gid://shopify/Product/7001" → "7001"; "7001" → "7001"; anything else → "". */
export function numericId(raw) {
  const text = raw == null ? '' : String(raw).trim();
  const gid = GID_RE.exec(text);
  if (gid) return gid[1];
  return /^\d{1,30}$/.test(text) ? text : '';
}

/** The product entity of one cart or checkout line, or null when the line names no product. */
export function productEntity(variant, quantity, fallbackCurrency) {
  const product = variant?.product;
  const id = numericId(product?.id);
  if (!id) return null;
  const price = variant.price || {};
  const cur = str(price.currencyCode || fallbackCurrency, 3).toUpperCase();
  const entity = {
    id,
    category: str(product.type || ''),
    price: money(price.amount),
    currency: CURRENCY_RE.test(cur) ? cur : NO_CURRENCY,
  };
  if (quantity != null) entity.quantity = Math.max(0, parseInt(quantity, 10) || 0);
  return entity;
}

/** The transaction entity of a completed checkout, or null when Shopify named no order. */
export function transactionEntity(checkout, products) {
  const orderId = numericId(checkout.order?.id);
  if (!orderId) return null;
  const total = checkout.totalPrice || {};
  const cur = str(total.currencyCode || checkout.currencyCode, 3).toUpperCase();
  const gateway = Array.isArray(checkout.transactions) && checkout.transactions[0]?.gateway;
  return {
    transaction_id: orderId,
    revenue: money(total.amount),
    currency: CURRENCY_RE.test(cur) ? cur : NO_CURRENCY,
    payment_method: str(gateway || 'unknown'),
    total_quantity: products.reduce((n, p) => n + (p.quantity || 0), 0),
  };
}

/** Products of a Shopify event we track, with the ecommerce action type; null for anything else. */
export function productsOf(event) {
  const data = event?.data || {};
  switch (event?.name) {
    case CHECKOUT_COMPLETED: {
      const checkout = data.checkout || {};
      const lines = Array.isArray(checkout.lineItems) ? checkout.lineItems : [];
      // Checkout lines carry the variant in `variant` (CheckoutLineItem); cart lines in `merchandise`.
      const products = lines
        .map((l) => l && productEntity(l.variant || l.merchandise, l.quantity, checkout.currencyCode))
        .filter(Boolean);
      return { type: TRANSACTION, products, transaction: transactionEntity(checkout, products) };
    }
    case PRODUCT_ADDED_TO_CART: {
      const line = data.cartLine;
      const p = line && productEntity(line.merchandise, line.quantity, line.cost?.totalAmount?.currencyCode);
      return { type: ADD_TO_CART, products: p ? [p] : [] };
    }
    default:
      return null;
  }
}

/** Our storefront tracker's visitor id (the `_ss_id` cookie value), or "" when absent or malformed. */
export function visitorId(cookieValue) {
  const v = cookieValue == null ? '' : String(cookieValue).trim();
  return VISITOR_ID_RE.test(v) ? v.toLowerCase() : '';
}

/**
 * One Shopify event → a list of tp2 events (zero or one). Zero when the event is not one we track, names
 * no product, or has no visitor id (the collector would reject it).
 * ctx: {shop, duid}. `stm` is left to the sender (see payloadBody).
 */
export function buildEvents(event, ctx) {
  const what = productsOf(event);
  if (!what || !what.products.length) return [];
  const duid = visitorId(ctx?.duid);
  if (!duid) return [];
  const eventId = event?.id != null ? String(event.id) : '';
  if (!eventId) return [];
  const ev = {
    e: 'ue',
    eid: uuidv5(eventId, EID_NAMESPACE),
    tv: TRACKER_VERSION,
    p: 'web',
    aid: str(ctx.shop),
    ue_pr: JSON.stringify(sd(UE_SCHEMA, sd(ACTION_SCHEMA, { type: what.type }))),
    co: JSON.stringify(sd(CONTEXTS_SCHEMA, entities(what))),
    duid,
  };
  const dtm = Date.parse(event.timestamp);
  if (Number.isFinite(dtm)) ev.dtm = String(dtm);
  const loc = event.context?.document?.location;
  if (loc?.href) ev.url = str(loc.href, 4096);
  return [ev];
}

function entities(what) {
  const all = what.products.map((p) => sd(PRODUCT_SCHEMA, p));
  return what.transaction ? [...all, sd(TRANSACTION_SCHEMA, what.transaction)] : all;
}

/** The POST body for a batch, with `stm` (device sent time, ms) set on copies of the events. */
export function payloadBody(events, sentAtMs) {
  const stm = String(Math.floor(sentAtMs));
  return JSON.stringify({ schema: PAYLOAD_SCHEMA, data: events.map((e) => ({ ...e, stm })) });
}

// ---- UUID v5 (RFC 9562 §5.5): SHA-1 of namespace bytes + UTF-8 name, version and variant bits set ----

export function uuidv5(name, namespace) {
  const ns = hexBytes(namespace.replace(/-/g, ''));
  const nm = new TextEncoder().encode(name);
  const bytes = new Uint8Array(ns.length + nm.length);
  bytes.set(ns);
  bytes.set(nm, ns.length);
  const h = sha1(bytes).slice(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = Array.from(h, (b) => (b + 256).toString(16).slice(1)).join('');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

function hexBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** SHA-1 of a byte array (synchronous; crypto.subtle is async and node:crypto is absent in the sandbox). */
export function sha1(bytes) {
  const len = bytes.length;
  const words = new Uint32Array((((len + 8) >> 6) + 1) * 16);
  for (let i = 0; i < len; i++) words[i >> 2] |= bytes[i] << (24 - (i % 4) * 8);
  words[len >> 2] |= 0x80 << (24 - (len % 4) * 8);
  words[words.length - 1] = len * 8; // names are short: the high 32 bits of the bit length stay 0
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let blk = 0; blk < words.length; blk += 16) {
    for (let t = 0; t < 16; t++) w[t] = words[blk + t];
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      let f, k;
      if (t < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (t < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = b ^ c ^ d; k = 0xca62c1d6; }
      const tmp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) >>> 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
    }
    h0 = (h0 + a) >>> 0; h1 = (h1 + b) >>> 0; h2 = (h2 + c) >>> 0; h3 = (h3 + d) >>> 0; h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  [h0, h1, h2, h3, h4].forEach((v, i) => {
    out[i * 4] = v >>> 24; out[i * 4 + 1] = (v >>> 16) & 255; out[i * 4 + 2] = (v >>> 8) & 255; out[i * 4 + 3] = v & 255;
  });
  return out;
}
