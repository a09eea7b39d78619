/**
 * Slipstream recommendations block: fills each <section class="slipstream-recs"> rendered by
 * blocks/recommendations.liquid.
 *
 * Section attributes: data-endpoint (the app proxy URL, default "/apps/slipstream/recommendations"),
 * data-count (2–10), data-product-id (the page's product, may be empty), data-placement (default "product"),
 * data-refresh (optional; a delay in ms, default 1000: re-fetch after the tracker reports a sent product
 * view or add to cart, so the block follows the shopper within a second or two).
 *
 * Request:  GET {endpoint}?visitor=<duid>&product_id=<id>&limit=<count>  (Accept: application/json)
 * Response: {"items":[{"item_id","title","price","currency","url","image_url"}], "model_version", "source"}
 *
 * Any failure of the first load hides the section; a failed refresh keeps what is shown. A section
 * Liquid already filled from the customer's metaobject (data-prerendered) is refreshed, never hidden.
 * Impressions and clicks go to window.slipstream (tracker.js) when it is on the page.
 */
(function (w, d) {
  'use strict';
  if (w.__slipstreamRecs) return; // the block may be on the page twice: one script does all sections
  w.__slipstreamRecs = true;

  // ---- protocol names: the same names and values as in tracker.js and web_pixel/src/constants.js
  // (separate bundles cannot import each other; web_pixel/test/constants.test.js checks they agree) ----
  const PRODUCT_VIEW = 'product_view';
  const ADD_TO_CART = 'add_to_cart';
  const REC_IMPRESSION = 'rec_impression';
  const REC_CLICK = 'rec_click';
  const DEFAULT_PLACEMENT = 'product';
  const CONFIG_ID = 'slipstream-config';
  const READY_EVENT = 'slipstream:ready';
  const SENT_EVENT = 'slipstream:sent';
  // ---- end of protocol names ----

  const DEFAULT_ENDPOINT = '/apps/slipstream/recommendations';
  const DEFAULT_COUNT = 4;
  const MAX_COUNT = 10;
  const DEFAULT_REFRESH_MS = 1000;
  const TRACKER_WAIT_MS = 300;
  const TIMEOUT_MS = 8000;
  const IMAGE_WIDTHS = [200, 300, 400, 600];
  const CLASS_PREFIX = 'slipstream-recs__'; // the BEM elements of blocks/recommendations.liquid

  // Storefront code must never break the merchant's theme: a call that a browser, a theme or the
  // API's data can make throw runs through here, and each caller says why it may.
  const quietly = (fn, fallback) => {
    // eslint-disable-next-line no-restricted-syntax -- the one place this script swallows errors
    try {
      return fn();
    } catch {
      return fallback;
    }
  };

  const tracker = () => w.slipstream;
  const track = (kind, data) => quietly(() => tracker()?.track(kind, data)); // the cards matter more

  function el(tag, cls) {
    const e = d.createElement(tag);
    if (cls) e.className = CLASS_PREFIX + cls;
    return e;
  }

  function formatPrice(value, currency) {
    const n = Number(value);
    if (value == null || value === '' || !isFinite(n)) return '';
    if (!currency) return String(value);
    const format = (lang) => new Intl.NumberFormat(lang, { style: 'currency', currency }).format(n);
    // an odd <html lang> throws: the browser's locale; a currency Intl does not know: the plain amount
    return quietly(() => format(d.documentElement.lang || undefined)) ??
      quietly(() => format(undefined)) ?? value + ' ' + currency;
  }

  // An item URL the browser cannot parse gets no card rather than a broken link.
  const productLink = (url, tag) => quietly(() => {
    const root = w.Shopify?.routes?.root || '/';
    // "/products/x" under a market or language prefix such as "/fr/"
    if (root !== '/' && /^\/[^/]/.test(url) && url.indexOf(root) !== 0) url = root + url.slice(1);
    const u = new URL(url, w.location.href);
    if (!/^https?:$/.test(u.protocol)) return null;
    u.searchParams.set('ss_rec', tag);
    return u.origin === w.location.origin ? u.pathname + u.search + u.hash : u.href;
  }, null);

  function setImage(img, src) {
    img.src = src;
    if (!/(^|\/\/)cdn\.shopify\.com\/|\/cdn\/shop\//.test(src)) return;
    quietly(() => { // srcset only sharpens the image: the plain src already shows it
      const at = (width) => {
        const u = new URL(src, w.location.href);
        u.searchParams.set('width', width);
        return u.href + ' ' + width + 'w';
      };
      img.srcset = IMAGE_WIDTHS.map(at).join(', ');
      img.sizes = '(min-width: 750px) 25vw, 50vw';
    });
  }

  function card(item, position, tag) {
    const href = productLink(String(item.url || ''), tag);
    if (!href || item.item_id == null) return null;
    const title = String(item.title || '');
    const li = el('li', 'item');
    const a = el('a', 'link');
    a.href = href;
    a.setAttribute('data-ss-item', String(item.item_id));
    a.setAttribute('data-ss-position', String(position));
    const media = el('div', 'media');
    if (item.image_url) {
      const img = el('img');
      img.alt = title;
      img.loading = 'lazy';
      img.decoding = 'async';
      img.width = 400;
      img.height = 400;
      setImage(img, String(item.image_url));
      media.appendChild(img);
    } else {
      media.classList.add(CLASS_PREFIX + 'media--empty');
    }
    const name = el('span', 'name');
    name.textContent = title;
    const price = el('span', 'price');
    price.textContent = formatPrice(item.price, item.currency);
    a.appendChild(media);
    a.appendChild(name);
    a.appendChild(price);
    li.appendChild(a);
    return li;
  }

  function init(section) {
    section.setAttribute('data-ss-init', '');
    const list = section.querySelector('.' + CLASS_PREFIX + 'list');
    if (!list) return;
    const count = Math.min(MAX_COUNT, Math.max(1, parseInt(section.getAttribute('data-count'), 10) || DEFAULT_COUNT));
    const productId = section.getAttribute('data-product-id') || '';
    const placement = section.getAttribute('data-placement') || DEFAULT_PLACEMENT;
    let shown = ''; // item ids on screen, to skip identical refreshes
    let modelVersion = '';
    let busy = false;

    function hide() {
      section.hidden = true;
      section.setAttribute('aria-busy', 'false');
    }

    function render(json) {
      const tag = String(json.model_version || json.source || '0');
      const items = Array.isArray(json.items) ? json.items : [];
      const cards = [];
      const ids = [];
      for (const item of items) {
        if (cards.length >= count) break;
        const li = card(item || {}, cards.length, tag);
        if (li) {
          cards.push(li);
          ids.push(String(item.item_id));
        }
      }
      if (!cards.length) throw new Error('no recommendations');
      const key = tag + '|' + ids.join(',');
      if (key === shown) return;
      shown = key;
      modelVersion = String(json.model_version || '');
      list.textContent = '';
      cards.forEach((li) => list.appendChild(li));
      const status = section.querySelector('.' + CLASS_PREFIX + 'status');
      if (status) status.remove();
      section.setAttribute('aria-busy', 'false');
      track(REC_IMPRESSION, { items: ids, model_version: modelVersion, placement });
    }

    function load(first) {
      if (busy) return;
      busy = true;
      const url = new URL(section.getAttribute('data-endpoint') || DEFAULT_ENDPOINT, w.location.href);
      const visitor = quietly(() => tracker()?.visitorId?.()) || ''; // a broken tracker: anonymous
      if (visitor) url.searchParams.set('visitor', visitor);
      if (productId) url.searchParams.set('product_id', productId);
      url.searchParams.set('limit', String(count));
      const ctl = w.AbortController ? new AbortController() : null;
      const timer = setTimeout(() => ctl?.abort(), TIMEOUT_MS);
      fetch(url.href, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
        signal: ctl?.signal,
      })
        .then((r) => {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.json();
        })
        .then(render)
        .catch(() => {
          if (first) hide(); // never break the page; a failed refresh keeps the cards shown
        })
        .then(() => {
          clearTimeout(timer);
          busy = false;
        });
    }

    function onClick(e) {
      if (e.type === 'auxclick' && e.button !== 1) return; // middle click opens a tab: count it too
      const a = e.target?.closest?.('a[data-ss-item]');
      if (!a || !section.contains(a)) return;
      // no need to delay navigation: the tracker sends its queue with sendBeacon on pagehide
      track(REC_CLICK, {
        item_id: a.getAttribute('data-ss-item'),
        position: parseInt(a.getAttribute('data-ss-position'), 10) || 0,
        model_version: modelVersion,
        placement,
      });
    }

    list.addEventListener('click', onClick);
    list.addEventListener('auxclick', onClick);

    if (section.hasAttribute('data-refresh')) {
      const delay = parseInt(section.getAttribute('data-refresh'), 10) || DEFAULT_REFRESH_MS;
      let pending = 0;
      d.addEventListener(SENT_EVENT, (e) => {
        const kinds = e.detail?.kinds || [];
        if (section.hidden || !(kinds.includes(PRODUCT_VIEW) || kinds.includes(ADD_TO_CART))) return;
        clearTimeout(pending);
        pending = setTimeout(() => load(false), delay); // give the workers time to recompute
      });
    }

    // Rendered by Liquid from the customer's metaobject: count it as shown, then refresh it (a
    // failed refresh keeps it, like any refresh).
    const saved = section.hasAttribute('data-prerendered');
    if (saved) {
      const ids = Array.prototype.map.call(list.querySelectorAll('a[data-ss-item]'), (a) =>
        a.getAttribute('data-ss-item'));
      modelVersion = section.getAttribute('data-prerendered') || '';
      if (ids.length) track(REC_IMPRESSION, { items: ids, model_version: modelVersion, placement });
    }
    load(!saved);
  }

  function scan() {
    const sections = d.querySelectorAll('.slipstream-recs:not([data-ss-init])');
    for (let i = 0; i < sections.length; i++) init(sections[i]);
  }

  // Deferred scripts run in document order, and the tracker (an app embed at the end of <body>) comes
  // after this block: wait for DOMContentLoaded, by which time every deferred script has run, then a
  // moment for a tracker loaded some other way. Without a tracker the block still works, anonymously.
  function start() {
    if (tracker() || !(d.getElementById(CONFIG_ID) || w.SlipstreamConfig)) return scan();
    let done = false;
    const go = () => {
      if (!done) {
        done = true;
        scan();
      }
    };
    d.addEventListener(READY_EVENT, go);
    setTimeout(go, TRACKER_WAIT_MS);
  }

  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
  else start();
  d.addEventListener('shopify:section:load', scan); // the theme editor re-renders sections
})(window, document);
