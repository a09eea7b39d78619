/**
 * Slipstream tracker: a small emitter of the Snowplow tracker protocol (tp2), not the Snowplow library.
 *
 * Config, read in this order (a field missing or empty in the first is taken from the second):
 *   1. <script type="application/json" id="slipstream-config">{...}</script>, written by blocks/tracker.liquid
 *   2. window.SlipstreamConfig = {...}, set by pages that are not a Shopify theme (the demo storefront)
 * Fields:
 *   shop        string  the shop's myshopify domain, sent as `aid`   (default: location.hostname)
 *   endpoint    string  where batches are POSTed                     (default: "/apps/slipstream/tp2")
 *   product     {id, category, price, currency} | null   the product on a product page
 *   enabled     boolean         false turns tracking off               (default: true)
 *
 * API (window.slipstream): track(kind, data), flush(), visitorId(), consent().
 *   kind: "page_view" | "product_view" [data: product] | "add_to_cart" [data: {items:[product…], cart}]
 *         | "rec_impression" {items, model_version, placement} | "rec_click" {item_id, position, model_version, placement}
 * Events on document: "slipstream:ready" once the API exists; "slipstream:sent" after a 2xx, with
 * detail {kinds: ["page_view", "product_view", …]} naming what that batch carried.
 *
 * Delivery: a localStorage queue (ss_q, ≤ 200 events) sent in batches of ≤ 25 events and ≤ 40 KB.
 * 2xx: done. Other 4xx except 408/429: the batch is dropped (it will never succeed, and keeping it would
 * block the queue). 408, 429, 5xx, network errors and timeouts: kept, retried after 1 s doubling to 60 s,
 * with jitter. On pagehide / visibilitychange→hidden the queue goes out with sendBeacon (fetch keepalive as
 * fallback) and stays queued, since a beacon's answer is never seen: the next page resends it.
 * Resends can duplicate events: the pipeline de-duplicates on `eid`.
 * Identity travels in `duid` (a random UUID), so requests omit credentials; who is logged in is Shopify's to
 * say, which the app proxy's signature does. (sendBeacon cannot omit same-origin cookies; the Shopify app
 * proxy strips the Cookie header before it reaches us.)
 * Consent: with Shopify's Customer Privacy API present, nothing is stored or sent unless
 * analyticsProcessingAllowed(); without it (a non-Shopify page) tracking is allowed.
 */
(function (w, d) {
  'use strict';
  if (w.slipstream?.track) return; // loaded twice

  // ---- protocol names: the same names and values as in recommendations.js and web_pixel/src/constants.js
  // (separate bundles cannot import each other; web_pixel/test/constants.test.js checks they agree) ----
  const SNOWPLOW = 'iglu:com.snowplowanalytics.snowplow';
  const PAYLOAD_SCHEMA = SNOWPLOW + '/payload_data/jsonschema/1-0-4';
  const UE_SCHEMA = SNOWPLOW + '/unstruct_event/jsonschema/1-0-0';
  const CONTEXTS_SCHEMA = SNOWPLOW + '/contexts/jsonschema/1-0-0';
  const ACTION_SCHEMA = SNOWPLOW + '.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2';
  const PRODUCT_SCHEMA = SNOWPLOW + '.ecommerce/product/jsonschema/1-0-0';
  const CART_SCHEMA = SNOWPLOW + '.ecommerce/cart/jsonschema/1-0-0';
  const IMPRESSION_SCHEMA = 'iglu:app.slipstream/recommendation_impression/jsonschema/1-0-0';
  const CLICK_SCHEMA = 'iglu:app.slipstream/recommendation_click/jsonschema/1-0-0';
  const CONTENT_TYPE = 'application/json; charset=UTF-8';
  const VISITOR_COOKIE = '_ss_id'; // here also the visitor id's localStorage key
  const VISITOR_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const CURRENCY_RE = /^[A-Z]{3}$/;
  const NO_CURRENCY = 'XXX'; // ISO 4217 "no currency": the schemas need 3 letters
  const PAGE_VIEW = 'page_view';
  const PRODUCT_VIEW = 'product_view';
  const ADD_TO_CART = 'add_to_cart';
  const REC_IMPRESSION = 'rec_impression';
  const REC_CLICK = 'rec_click';
  const DEFAULT_PLACEMENT = 'product';
  const CONFIG_ID = 'slipstream-config';
  const READY_EVENT = 'slipstream:ready';
  const SENT_EVENT = 'slipstream:sent';
  // ---- end of protocol names ----

  const TRACKER_VERSION = 'js-slipstream-0.1';
  const DEFAULT_ENDPOINT = '/apps/slipstream/tp2';
  const QUEUE_KEY = 'ss_q';
  const SESSION_KEY = '_ss_ses';
  const VISITOR_MAX_AGE_S = 365 * 24 * 3600;
  const SESSION_MS = 30 * 60 * 1000; // idle time that ends a session, as in the Snowplow JS tracker
  const MAX_QUEUE = 200;
  const MAX_BATCH = 25;
  const MAX_BYTES = 40000; // the Snowplow JS tracker's maxPostBytes
  const BEACON_BYTES = 60000; // keepalive/beacon bodies share a 64 KiB in-flight budget per page
  const BATCH_DELAY_MS = 100; // a short wait lets back-to-back events share one request
  const TIMEOUT_MS = 10000;
  const RETRY_MS = 1000; // the first retry; each failure doubles it, up to RETRY_MAX_MS
  const RETRY_MAX_MS = 60000;
  const OTHER_ADD_MS = 3000; // how long a form add a theme took over may wait for its fetch

  // Storefront code must never break the merchant's theme: a call that a browser, a theme or a
  // shopper's settings can make throw runs through here, and each caller says why it may.
  const quietly = (fn, fallback) => {
    // eslint-disable-next-line no-restricted-syntax -- the one place this script swallows errors
    try {
      return fn();
    } catch {
      return fallback;
    }
  };

  const loc = w.location;
  const nav = w.navigator;
  const origFetch = w.fetch?.bind(w);
  const te = w.TextEncoder && new TextEncoder();
  const bytes = (s) => (te ? te.encode(s).length : s.length);
  const str = (v, max) => (v == null ? '' : String(v)).slice(0, max || 255);
  const sd = (schema, data) => ({ schema, data });
  const money = (v) => Math.max(0, Math.min(9999999, Math.round((Number(v) || 0) * 100) / 100));

  // ---- storage (localStorage may be missing, full or forbidden: fall back to memory) ----
  const ls = quietly(() => {
    const s = w.localStorage; // reading it throws where the shopper blocks site data
    s.setItem('_ss_t', '1');
    s.removeItem('_ss_t');
    return s;
  }, null);
  const mem = {};
  // storage can be revoked, or fill up, while the page is open: a lost read or write costs an event
  const get = (k) => quietly(() => (ls ? ls.getItem(k) : mem[k] || null), null);
  const put = (k, v) => quietly(() => {
    if (!ls) mem[k] = v;
    else if (v == null) ls.removeItem(k);
    else ls.setItem(k, v);
  });
  const parse = (s) => quietly(() => JSON.parse(s), null); // a value another script (or version) wrote
  const loadQ = () => {
    const q = parse(get(QUEUE_KEY));
    return Array.isArray(q) ? q : [];
  };
  const saveQ = (q) => put(QUEUE_KEY, q.length ? JSON.stringify(q.slice(-MAX_QUEUE)) : null);
  const without = (q, ids) => q.filter((e) => ids.indexOf(e.eid) < 0);

  function uuid() {
    const c = w.crypto;
    const id = c?.randomUUID?.(); // secure contexts only
    if (id) return id;
    const b = new Uint8Array(16);
    if (c?.getRandomValues) c.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
  }

  function cookie(k, v, maxAge) {
    if (v === undefined) {
      const m = d.cookie.match(new RegExp('(?:^|;\\s*)' + k + '=([^;]*)'));
      return m ? m[1] : null; // our values are [\w-] only: no encoding needed
    }
    d.cookie = k + '=' + v + ';path=/;max-age=' + maxAge + ';SameSite=Lax' +
      (loc.protocol === 'https:' ? ';Secure' : '');
  }

  // ---- identity: duid (first-party, 1 year, cookie + localStorage) and session (30 min idle) ----
  function visitorId(create) {
    let id = cookie(VISITOR_COOKIE) || get(VISITOR_COOKIE);
    if (!VISITOR_ID_RE.test(id || '')) id = null;
    if (!id && !create) return '';
    id = id || uuid();
    cookie(VISITOR_COOKIE, id, VISITOR_MAX_AGE_S);
    put(VISITOR_COOKIE, id);
    return id;
  }

  let ses = null;
  function session(now) {
    let s = parse(get(SESSION_KEY)) || ses;
    if (!s?.id || !(now - s.t < SESSION_MS)) s = { id: uuid(), n: (s?.n || 0) + 1 };
    s.t = now;
    put(SESSION_KEY, JSON.stringify(s));
    return (ses = s);
  }

  function forget() {
    saveQ([]);
    put(VISITOR_COOKIE, null);
    put(SESSION_KEY, null);
    if (cookie(VISITOR_COOKIE)) cookie(VISITOR_COOKIE, '', 0);
  }

  // ---- config ----
  function product(p, fill) {
    if (!p || p.id == null || p.id === '') return null;
    fill = fill && String(fill.id) === String(p.id) ? fill : {};
    const cur = str(p.currency || fill.currency || cfg.currency, 3).toUpperCase();
    const o = {
      id: str(p.id),
      category: str(p.category || fill.category || ''),
      price: money(p.price != null ? p.price : fill.price),
      currency: CURRENCY_RE.test(cur) ? cur : NO_CURRENCY,
    };
    if (p.name) o.name = str(p.name);
    if (p.variant) o.variant = str(p.variant);
    if (p.quantity != null) o.quantity = Math.max(0, parseInt(p.quantity, 10) || 0);
    return o;
  }

  function readConfig() {
    const el = d.getElementById(CONFIG_ID);
    const c = (el && parse(el.textContent)) || {};
    const g = w.SlipstreamConfig || {};
    const pick = (k) => (c[k] != null && c[k] !== '' ? c[k] : g[k]);
    const p = pick('product');
    return {
      shop: str(pick('shop') || loc.hostname),
      endpoint: str(pick('endpoint') || DEFAULT_ENDPOINT, 2000),
      enabled: pick('enabled') !== false,
      currency: p?.currency || w.Shopify?.currency?.active || '',
      product: p?.id != null && p.id !== '' ? p : null,
    };
  }
  const cfg = readConfig();
  cfg.product = product(cfg.product);

  // ---- building events (every value a string: payload_data 1-0-4 is strict) ----
  const kinds = {}; // eid -> kind, to say what a sent batch carried

  function base(e, kind) {
    const ev = { e, eid: uuid(), tv: TRACKER_VERSION, p: 'web', aid: cfg.shop, dtm: String(Date.now()),
      url: loc.href, refr: d.referrer, page: d.title };
    kinds[ev.eid] = kind;
    return ev;
  }

  function selfDescribing(kind, schema, data, entities) {
    const ev = base('ue', kind);
    ev.ue_pr = JSON.stringify(sd(UE_SCHEMA, sd(schema, data)));
    if (entities?.length) ev.co = JSON.stringify(sd(CONTEXTS_SCHEMA, entities));
    return ev;
  }

  function ecommerce(type, products, cart) {
    const ents = products.filter(Boolean).map((p) => sd(PRODUCT_SCHEMA, p));
    if (!ents.length) return '';
    if (cart && CURRENCY_RE.test(cart.currency)) ents.push(sd(CART_SCHEMA, cart));
    return enqueue(selfDescribing(type, ACTION_SCHEMA, { type }, ents));
  }

  // A theme's own call with odd arguments costs that one event, never the caller's script.
  const track = (kind, data) => quietly(() => {
    data = data || {};
    const mv = str(data.model_version, 64);
    const pl = str(data.placement || DEFAULT_PLACEMENT, 64);
    switch (kind) {
      case 'pv':
      case PAGE_VIEW:
        return enqueue(base('pv', PAGE_VIEW));
      case PRODUCT_VIEW:
        return ecommerce(kind, [data.id != null ? product(data, cfg.product) : cfg.product]);
      case ADD_TO_CART:
        return ecommerce(kind, (data.items || [data]).map((p) => product(p, cfg.product)), data.cart);
      case REC_IMPRESSION:
        return enqueue(selfDescribing(kind, IMPRESSION_SCHEMA, {
          items: (data.items || []).slice(0, 50).map((x) => str(x && typeof x === 'object' ? x.item_id : x, 64)),
          model_version: mv,
          placement: pl,
        }));
      case REC_CLICK:
        return enqueue(selfDescribing(kind, CLICK_SCHEMA, {
          item_id: str(data.item_id, 64),
          position: Math.max(0, Math.min(49, parseInt(data.position, 10) || 0)),
          model_version: mv,
          placement: pl,
        }));
    }
    return '';
  }, '');

  // ---- queue ----
  let consent = null; // null: not known yet; events wait in `early`
  let early = [];

  function enqueue(ev) {
    if (consent === false || !cfg.enabled) return '';
    if (consent === null) {
      early.push(ev);
      return ev.eid;
    }
    const s = session(Date.now());
    ev.duid = visitorId(true);
    ev.sid = s.id;
    ev.vid = s.n;
    for (const k in ev) {
      if (ev[k] == null || ev[k] === '') delete ev[k];
      else ev[k] = String(ev[k]);
    }
    const q = loadQ();
    q.push(ev);
    saveQ(q);
    schedule(BATCH_DELAY_MS);
    return ev.eid;
  }

  function setConsent(ok) {
    consent = !!ok && cfg.enabled;
    const waiting = early;
    early = [];
    if (consent) waiting.forEach(enqueue);
    else forget();
  }

  // ---- delivery ----
  let timer = 0;
  let fails = 0;
  let inflight = [];

  function schedule(ms) {
    if (!timer) timer = setTimeout(() => { timer = 0; flush(); }, ms);
  }

  function take(q, skip) {
    const out = [];
    let size = 100; // the envelope
    for (const ev of q) {
      if (skip && skip.indexOf(ev.eid) >= 0) continue;
      const n = bytes(JSON.stringify(ev)) + 20;
      if (out.length && (out.length >= MAX_BATCH || size + n > MAX_BYTES)) break;
      out.push(ev); // a single event over the limit goes alone; a 413 then drops it
      size += n;
    }
    return out;
  }

  function body(batch) {
    const stm = String(Date.now());
    return JSON.stringify(sd(PAYLOAD_SCHEMA, batch.map((e) => Object.assign({}, e, { stm }))));
  }

  const post = (data, keepalive, signal) => origFetch(cfg.endpoint, {
    method: 'POST', headers: { 'Content-Type': CONTENT_TYPE }, body: data, credentials: 'omit',
    cache: 'no-store', keepalive, signal,
  });

  function flush() {
    if (inflight.length || consent !== true || !origFetch) return;
    const batch = take(loadQ());
    if (!batch.length) return;
    const ids = (inflight = batch.map((e) => e.eid));
    const data = body(batch);
    const ctl = w.AbortController && new AbortController();
    const t = setTimeout(() => ctl?.abort(), TIMEOUT_MS);
    // keepalive lets a batch still in flight at pagehide arrive, so the beacon can skip it
    post(data, bytes(data) < BEACON_BYTES, ctl?.signal)
      .then((r) => r.status, () => 0)
      .then((st) => {
        clearTimeout(t);
        inflight = [];
        if ((st >= 200 && st < 300) || (st >= 400 && st < 500 && st !== 408 && st !== 429)) {
          saveQ(without(loadQ(), ids));
          fails = 0;
          if (st < 300) sent(ids);
          if (loadQ().length) schedule(0);
        } else {
          const delay = Math.min(RETRY_MAX_MS, RETRY_MS * Math.pow(2, fails++) * (0.8 + Math.random() * 0.4));
          clearTimeout(timer);
          timer = 0;
          schedule(delay);
        }
      });
  }

  // Without a CustomEvent constructor (very old browsers) nothing can listen for ours anyway.
  const announce = (name, detail) => quietly(() => d.dispatchEvent(new CustomEvent(name, { detail })));

  function sent(ids) {
    const list = ids.map((id) => kinds[id]).filter(Boolean);
    ids.forEach((id) => delete kinds[id]);
    announce(SENT_EVENT, { kinds: list });
  }

  function beacon(data) {
    // cross-origin beacons with a JSON type throw in some browsers: then fetch keepalive
    if (quietly(() => nav.sendBeacon?.(cfg.endpoint, new Blob([data], { type: CONTENT_TYPE })))) return true;
    // no fetch at all (or one that throws): the queue waits for the next page
    return quietly(() => {
      post(data, true).catch(() => {}); // like a beacon's, its answer is never seen
      return true;
    }, false);
  }

  function leave() {
    if (consent !== true) return;
    // Beaconed events stay queued: a beacon's answer is never seen, and one sent into a 503 would be
    // lost. The next page resends them; the collector's de-duplication on eid absorbs the copy.
    const skip = inflight.slice();
    let budget = BEACON_BYTES;
    for (;;) {
      const batch = take(loadQ(), skip);
      if (!batch.length) break;
      const data = body(batch);
      budget -= bytes(data);
      if (budget < 0 || !beacon(data)) break;
      batch.forEach((e) => skip.push(e.eid));
    }
  }

  // ---- add to cart: theme forms and AJAX (fetch) calls to /cart/add ----
  const isAdd = (u) => /\/cart\/add(\.js|\.json)?([?#]|$)/.test(u);
  const fields = (f) => ({ id: f.get('product-id'), variant: f.get('id'), quantity: f.get('quantity') || 1 });
  let pending = null; // a form add whose page stayed: its fetch (if any) reports it instead

  // A body we cannot read (a stream, a theme's own JSON) names no items; the response may still.
  const requestItems = (b) => quietly(() => {
    if (typeof b === 'string') {
      if (b.charAt(0) !== '{') return [fields(new URLSearchParams(b))];
      const j = JSON.parse(b);
      return (j.items || [j]).map((x) => ({ variant: x.id, quantity: x.quantity || 1 }));
    }
    return b?.get ? [fields(b)] : []; // FormData, URLSearchParams
  }, []);

  function withPage(items) {
    // the product-id is unknown for a bare variant form: on a product page it is the page's product
    return items.map((x) => (x.id || !cfg.product ? x : Object.assign({}, x, { id: cfg.product.id })));
  }

  function cartThenTrack(items) {
    const root = w.Shopify?.routes?.root || '/';
    const done = (cart) => track(ADD_TO_CART, { items, cart });
    if (!w.Shopify) return done();
    origFetch(root + 'cart.js', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((r) => r.json())
      .then((c) => done({ total_value: money(c.total_price / 100), currency: str(c.currency, 3),
        cart_id: c.token ? str(String(c.token).split('?')[0]) : undefined }))
      .catch(() => done());
  }

  function onAddResponse(r, reqItems) {
    if (!r.ok) return;
    r.clone().json().then((j) => {
      const list = j?.items || (j?.product_id ? [j] : null);
      return list ? list.map((x) => ({ id: x.product_id, variant: x.variant_id || x.id, quantity: x.quantity,
        price: (x.final_price != null ? x.final_price : x.price) / 100, category: x.product_type,
        name: x.product_title })) : reqItems;
    }, () => reqItems).then((items) => cartThenTrack(withPage(items)));
  }

  if (origFetch) {
    w.fetch = function (input, init) {
      const p = origFetch.apply(w, arguments);
      // whatever we make of the theme's request, it goes ahead untouched
      quietly(() => {
        const url = typeof input === 'string' ? input : input?.url || String(input);
        if (isAdd(url.split('?')[0]) && String(init?.method || input?.method || '').toUpperCase() === 'POST') {
          const reqItems = requestItems(init?.body);
          const fromForm = pending;
          pending = null;
          p.then((r) => onAddResponse(r, reqItems.length ? reqItems : fromForm || []), () => {});
        }
      });
      return p;
    };
  }

  w.addEventListener('submit', (e) => {
    const f = e.target;
    if (!f?.matches?.('form[action*="/cart/add"]')) return;
    const info = quietly(() => withPage([fields(new FormData(f))])); // a form FormData cannot read
    if (!info) return;
    pending = info;
    // after every handler has run: a form left alone navigates now; one a theme took over is reported
    // by its fetch, or after OTHER_ADD_MS if the theme used something else (XMLHttpRequest)
    setTimeout(() => {
      if (!e.defaultPrevented) {
        pending = null;
        return track(ADD_TO_CART, { items: info });
      }
      setTimeout(() => {
        if (pending === info) {
          pending = null;
          track(ADD_TO_CART, { items: info });
        }
      }, OTHER_ADD_MS);
    }, 0);
  }, true);

  // ---- lifecycle ----
  d.addEventListener('visibilitychange', () => { if (d.visibilityState === 'hidden') leave(); });
  w.addEventListener('pagehide', leave);
  w.addEventListener('online', () => { fails = 0; clearTimeout(timer); timer = 0; flush(); });

  const queued = w.slipstream?.q || []; // calls made before this script loaded
  w.slipstream = {
    version: TRACKER_VERSION,
    config: cfg,
    track,
    flush: () => { clearTimeout(timer); timer = 0; flush(); },
    visitorId: () => (consent === false || !cfg.enabled ? '' : visitorId(consent === true)),
    consent: () => consent,
  };

  track(PAGE_VIEW);
  if (cfg.product) track(PRODUCT_VIEW);
  queued.forEach((a) => track.apply(null, a));

  const S = w.Shopify;
  const allowed = (detail) => {
    if (typeof detail?.analyticsAllowed === 'boolean') return detail.analyticsAllowed;
    // the API was expected but is not usable: do not track
    return quietly(() => !!S.customerPrivacy.analyticsProcessingAllowed(), false);
  };
  if (S?.designMode) setConsent(false); // the theme editor: the merchant, not a shopper
  else if (typeof S?.loadFeatures === 'function') {
    d.addEventListener('visitorConsentCollected', (e) => setConsent(allowed(e.detail)));
    const asked = quietly(() => {
      S.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], (err) => setConsent(!err && allowed()));
      return true;
    }, false);
    if (!asked) setConsent(false); // a privacy API we cannot ask is consent we do not have
  } else setConsent(true);

  announce(READY_EVENT);
})(window, document);
