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
  if (w.slipstream && w.slipstream.track) return; // loaded twice

  const TV = 'js-slipstream-0.1';
  const SP = 'iglu:com.snowplowanalytics.snowplow';
  const EC = SP + '.ecommerce/';
  const V1 = '/jsonschema/1-0-0';
  const PAYLOAD = SP + '/payload_data/jsonschema/1-0-4';
  const UE = SP + '/unstruct_event' + V1;
  const CO = SP + '/contexts' + V1;
  const ACTION = EC + 'snowplow_ecommerce_action/jsonschema/1-0-2';
  const PRODUCT = EC + 'product' + V1;
  const CART = EC + 'cart' + V1;
  const REC = 'iglu:app.slipstream/recommendation_';
  const CT = 'application/json; charset=UTF-8';
  const QKEY = 'ss_q';
  const IDKEY = '_ss_id';
  const SESKEY = '_ss_ses';
  const MAX_QUEUE = 200;
  const MAX_BATCH = 25;
  const MAX_BYTES = 40000; // the Snowplow JS tracker's maxPostBytes
  const BEACON_BYTES = 60000; // keepalive/beacon bodies share a 64 KiB in-flight budget per page
  const SESSION_MS = 30 * 60 * 1000;
  const TIMEOUT_MS = 10000;

  const loc = w.location;
  const nav = w.navigator;
  const origFetch = w.fetch && w.fetch.bind(w);
  const te = w.TextEncoder && new TextEncoder();
  const bytes = (s) => (te ? te.encode(s).length : s.length);
  const str = (v, max) => (v == null ? '' : String(v)).slice(0, max || 255);
  const sd = (schema, data) => ({ schema, data });
  const money = (v) => Math.max(0, Math.min(9999999, Math.round((Number(v) || 0) * 100) / 100));

  // ---- storage (localStorage may be missing, full or forbidden: fall back to memory) ----
  const ls = (() => {
    try {
      const s = w.localStorage;
      s.setItem('_ss_t', '1');
      s.removeItem('_ss_t');
      return s;
    } catch (e) {
      return null;
    }
  })();
  const mem = {};
  const get = (k) => {
    try {
      return ls ? ls.getItem(k) : mem[k] || null;
    } catch (e) {
      return null;
    }
  };
  const put = (k, v) => {
    try {
      if (!ls) mem[k] = v;
      else if (v == null) ls.removeItem(k);
      else ls.setItem(k, v);
    } catch (e) {}
  };
  const parse = (s) => {
    try {
      return JSON.parse(s);
    } catch (e) {
      return null;
    }
  };
  const loadQ = () => {
    const q = parse(get(QKEY));
    return Array.isArray(q) ? q : [];
  };
  const saveQ = (q) => put(QKEY, q.length ? JSON.stringify(q.slice(-MAX_QUEUE)) : null);
  const without = (q, ids) => q.filter((e) => ids.indexOf(e.eid) < 0);

  function uuid() {
    try {
      return crypto.randomUUID(); // secure contexts only
    } catch (e) {}
    const b = new Uint8Array(16);
    try {
      crypto.getRandomValues(b);
    } catch (e) {
      for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
    }
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
    let id = cookie(IDKEY) || get(IDKEY);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id || '')) id = null;
    if (!id && !create) return '';
    id = id || uuid();
    cookie(IDKEY, id, 31536000);
    put(IDKEY, id);
    return id;
  }

  let ses = null;
  function session(now) {
    let s = parse(get(SESKEY)) || ses;
    if (!s || !s.id || !(now - s.t < SESSION_MS)) s = { id: uuid(), n: ((s && s.n) || 0) + 1 };
    s.t = now;
    put(SESKEY, JSON.stringify(s));
    return (ses = s);
  }

  function forget() {
    saveQ([]);
    put(IDKEY, null);
    put(SESKEY, null);
    if (cookie(IDKEY)) cookie(IDKEY, '', 0);
  }

  // ---- config ----
  function product(p, fill) {
    if (!p || p.id == null || p.id === '') return null;
    fill = fill && String(fill.id) === String(p.id) ? fill : {};
    const cur = str(p.currency || fill.currency || (cfg && cfg.currency), 3).toUpperCase();
    const o = {
      id: str(p.id),
      category: str(p.category || fill.category || ''),
      price: money(p.price != null ? p.price : fill.price),
      currency: /^[A-Z]{3}$/.test(cur) ? cur : 'XXX', // ISO 4217 "no currency": the schema needs 3 letters
    };
    if (p.name) o.name = str(p.name);
    if (p.variant) o.variant = str(p.variant);
    if (p.quantity != null) o.quantity = Math.max(0, parseInt(p.quantity, 10) || 0);
    return o;
  }

  function readConfig() {
    const el = d.getElementById('slipstream-config');
    const c = (el && parse(el.textContent)) || {};
    const g = w.SlipstreamConfig || {};
    const pick = (k) => (c[k] != null && c[k] !== '' ? c[k] : g[k]);
    const p = pick('product');
    const S = w.Shopify;
    return {
      shop: str(pick('shop') || loc.hostname),
      endpoint: str(pick('endpoint') || '/apps/slipstream/tp2', 2000),
      enabled: pick('enabled') !== false,
      currency: (p && p.currency) || (S && S.currency && S.currency.active) || '',
      product: p && p.id != null && p.id !== '' ? p : null,
    };
  }
  const cfg = readConfig();
  cfg.product = product(cfg.product);

  // ---- building events (every value a string: payload_data 1-0-4 is strict) ----
  const kinds = {}; // eid -> kind, to say what a sent batch carried

  function base(e, kind) {
    const ev = { e, eid: uuid(), tv: TV, p: 'web', aid: cfg.shop, dtm: String(Date.now()),
      url: loc.href, refr: d.referrer, page: d.title };
    kinds[ev.eid] = kind;
    return ev;
  }

  function selfDescribing(kind, schema, data, entities) {
    const ev = base('ue', kind);
    ev.ue_pr = JSON.stringify(sd(UE, sd(schema, data)));
    if (entities && entities.length) ev.co = JSON.stringify(sd(CO, entities));
    return ev;
  }

  function ecommerce(type, products, cart) {
    const ents = products.filter(Boolean).map((p) => sd(PRODUCT, p));
    if (!ents.length) return '';
    if (cart && /^[A-Z]{3}$/.test(cart.currency)) ents.push(sd(CART, cart));
    return enqueue(selfDescribing(type, ACTION, { type }, ents));
  }

  function track(kind, data) {
    try {
      data = data || {};
      const mv = str(data.model_version, 64);
      const pl = str(data.placement || 'product', 64);
      switch (kind) {
        case 'pv':
        case 'page_view':
          return enqueue(base('pv', 'page_view'));
        case 'product_view':
          return ecommerce(kind, [data.id != null ? product(data, cfg.product) : cfg.product]);
        case 'add_to_cart':
          return ecommerce(kind, (data.items || [data]).map((p) => product(p, cfg.product)), data.cart);
        case 'rec_impression':
          return enqueue(selfDescribing(kind, REC + 'impression' + V1, {
            items: (data.items || []).slice(0, 50).map((x) => str(x && typeof x === 'object' ? x.item_id : x, 64)),
            model_version: mv,
            placement: pl,
          }));
        case 'rec_click':
          return enqueue(selfDescribing(kind, REC + 'click' + V1, {
            item_id: str(data.item_id, 64),
            position: Math.max(0, Math.min(49, parseInt(data.position, 10) || 0)),
            model_version: mv,
            placement: pl,
          }));
      }
    } catch (e) {}
    return '';
  }

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
    schedule(100); // a short wait lets back-to-back events share one request
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
    return JSON.stringify(sd(PAYLOAD, batch.map((e) => Object.assign({}, e, { stm }))));
  }

  const post = (data, keepalive, signal) => origFetch(cfg.endpoint, {
    method: 'POST', headers: { 'Content-Type': CT }, body: data, credentials: 'omit', cache: 'no-store',
    keepalive, signal,
  });

  function flush() {
    if (inflight.length || consent !== true || !origFetch) return;
    const batch = take(loadQ());
    if (!batch.length) return;
    const ids = (inflight = batch.map((e) => e.eid));
    const data = body(batch);
    const ctl = w.AbortController && new AbortController();
    const t = setTimeout(() => ctl && ctl.abort(), TIMEOUT_MS);
    // keepalive lets a batch still in flight at pagehide arrive, so the beacon can skip it
    post(data, bytes(data) < BEACON_BYTES, ctl && ctl.signal)
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
          const delay = Math.min(60000, 1000 * Math.pow(2, fails++) * (0.8 + Math.random() * 0.4));
          clearTimeout(timer);
          timer = 0;
          schedule(delay);
        }
      });
  }

  function sent(ids) {
    const list = ids.map((id) => kinds[id]).filter(Boolean);
    ids.forEach((id) => delete kinds[id]);
    try {
      d.dispatchEvent(new CustomEvent('slipstream:sent', { detail: { kinds: list } }));
    } catch (e) {}
  }

  function beacon(data) {
    try {
      if (nav.sendBeacon && nav.sendBeacon(cfg.endpoint, new Blob([data], { type: CT }))) return true;
    } catch (e) {} // cross-origin beacons with a JSON type throw in some browsers
    try {
      post(data, true).catch(() => {});
      return true;
    } catch (e) {
      return false;
    }
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

  function requestItems(b) {
    try {
      if (typeof b === 'string') {
        if (b.charAt(0) !== '{') return [fields(new URLSearchParams(b))];
        const j = JSON.parse(b);
        return (j.items || [j]).map((x) => ({ variant: x.id, quantity: x.quantity || 1 }));
      }
      if (b && b.get) return [fields(b)]; // FormData, URLSearchParams
    } catch (e) {}
    return [];
  }

  function withPage(items) {
    // the product-id is unknown for a bare variant form: on a product page it is the page's product
    return items.map((x) => (x.id || !cfg.product ? x : Object.assign({}, x, { id: cfg.product.id })));
  }

  function cartThenTrack(items) {
    const root = (w.Shopify && w.Shopify.routes && w.Shopify.routes.root) || '/';
    const done = (cart) => track('add_to_cart', { items, cart });
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
      const list = j && (j.items || (j.product_id ? [j] : null));
      return list ? list.map((x) => ({ id: x.product_id, variant: x.variant_id || x.id, quantity: x.quantity,
        price: (x.final_price != null ? x.final_price : x.price) / 100, category: x.product_type,
        name: x.product_title })) : reqItems;
    }, () => reqItems).then((items) => cartThenTrack(withPage(items)));
  }

  if (origFetch) {
    w.fetch = function (input, init) {
      const p = origFetch.apply(w, arguments);
      try {
        const url = typeof input === 'string' ? input : (input && input.url) || String(input);
        if (isAdd(url.split('?')[0]) && (((init && init.method) || (input && input.method) || '') + '').toUpperCase() === 'POST') {
          const reqItems = (init && requestItems(init.body)) || [];
          const fromForm = pending;
          pending = null;
          p.then((r) => onAddResponse(r, reqItems.length ? reqItems : fromForm || []), () => {});
        }
      } catch (e) {}
      return p;
    };
  }

  w.addEventListener('submit', (e) => {
    const f = e.target;
    if (!f || !f.matches || !f.matches('form[action*="/cart/add"]')) return;
    let info;
    try {
      info = withPage([fields(new FormData(f))]);
    } catch (err) {
      return;
    }
    pending = info;
    // after every handler has run: a form left alone navigates now; one a theme took over is reported
    // by its fetch, or after 3 s if the theme used something else (XMLHttpRequest)
    setTimeout(() => {
      if (!e.defaultPrevented) {
        pending = null;
        return track('add_to_cart', { items: info });
      }
      setTimeout(() => {
        if (pending === info) {
          pending = null;
          track('add_to_cart', { items: info });
        }
      }, 3000);
    }, 0);
  }, true);

  // ---- lifecycle ----
  d.addEventListener('visibilitychange', () => { if (d.visibilityState === 'hidden') leave(); });
  w.addEventListener('pagehide', leave);
  w.addEventListener('online', () => { fails = 0; clearTimeout(timer); timer = 0; flush(); });

  const queued = (w.slipstream && w.slipstream.q) || []; // calls made before this script loaded
  w.slipstream = {
    version: TV,
    config: cfg,
    track,
    flush: () => { clearTimeout(timer); timer = 0; flush(); },
    visitorId: () => (consent === false || !cfg.enabled ? '' : visitorId(consent === true)),
    consent: () => consent,
  };

  track('page_view');
  if (cfg.product) track('product_view');
  queued.forEach((a) => track.apply(null, a));

  const S = w.Shopify;
  const allowed = (detail) => {
    if (detail && typeof detail.analyticsAllowed === 'boolean') return detail.analyticsAllowed;
    try {
      return !!S.customerPrivacy.analyticsProcessingAllowed();
    } catch (e) {
      return false; // the API was expected but is not usable: do not track
    }
  };
  if (S && S.designMode) setConsent(false); // the theme editor: the merchant, not a shopper
  else if (S && typeof S.loadFeatures === 'function') {
    d.addEventListener('visitorConsentCollected', (e) => setConsent(allowed(e.detail)));
    try {
      S.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], (err) => setConsent(!err && allowed()));
    } catch (e) {
      setConsent(false);
    }
  } else setConsent(true);

  try {
    d.dispatchEvent(new CustomEvent('slipstream:ready'));
  } catch (e) {}
})(window, document);
