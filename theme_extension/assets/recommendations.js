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

  const TIMEOUT_MS = 8000;
  const P = 'slipstream-recs__';
  const tracker = () => w.slipstream;
  const track = (kind, data) => {
    try {
      if (tracker()) tracker().track(kind, data);
    } catch (e) {}
  };

  function el(tag, cls) {
    const e = d.createElement(tag);
    if (cls) e.className = P + cls;
    return e;
  }

  function formatPrice(value, currency) {
    const n = Number(value);
    if (value == null || value === '' || !isFinite(n)) return '';
    if (!currency) return String(value);
    const opts = { style: 'currency', currency };
    try {
      return new Intl.NumberFormat(d.documentElement.lang || undefined, opts).format(n);
    } catch (e) {
      try {
        return new Intl.NumberFormat(undefined, opts).format(n); // an odd <html lang>
      } catch (e2) {
        return value + ' ' + currency;
      }
    }
  }

  function productLink(url, tag) {
    try {
      const root = (w.Shopify && w.Shopify.routes && w.Shopify.routes.root) || '/';
      // "/products/x" under a market or language prefix such as "/fr/"
      if (root !== '/' && /^\/[^/]/.test(url) && url.indexOf(root) !== 0) url = root + url.slice(1);
      const u = new URL(url, w.location.href);
      if (!/^https?:$/.test(u.protocol)) return null;
      u.searchParams.set('ss_rec', tag);
      return u.origin === w.location.origin ? u.pathname + u.search + u.hash : u.href;
    } catch (e) {
      return null;
    }
  }

  function setImage(img, src) {
    img.src = src;
    if (!/(^|\/\/)cdn\.shopify\.com\/|\/cdn\/shop\//.test(src)) return;
    try {
      const at = (width) => {
        const u = new URL(src, w.location.href);
        u.searchParams.set('width', width);
        return u.href + ' ' + width + 'w';
      };
      img.srcset = [200, 300, 400, 600].map(at).join(', ');
      img.sizes = '(min-width: 750px) 25vw, 50vw';
    } catch (e) {}
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
      media.classList.add(P + 'media--empty');
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
    const list = section.querySelector('.' + P + 'list');
    if (!list) return;
    const count = Math.min(10, Math.max(1, parseInt(section.getAttribute('data-count'), 10) || 4));
    const productId = section.getAttribute('data-product-id') || '';
    const placement = section.getAttribute('data-placement') || 'product';
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
      const status = section.querySelector('.' + P + 'status');
      if (status) status.remove();
      section.setAttribute('aria-busy', 'false');
      track('rec_impression', { items: ids, model_version: modelVersion, placement });
    }

    function load(first) {
      if (busy) return;
      busy = true;
      const url = new URL(section.getAttribute('data-endpoint') || '/apps/slipstream/recommendations',
        w.location.href);
      const visitor = tracker() && tracker().visitorId ? tracker().visitorId() : '';
      if (visitor) url.searchParams.set('visitor', visitor);
      if (productId) url.searchParams.set('product_id', productId);
      url.searchParams.set('limit', String(count));
      const ctl = w.AbortController ? new AbortController() : null;
      const timer = setTimeout(() => ctl && ctl.abort(), TIMEOUT_MS);
      fetch(url.href, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
        signal: ctl ? ctl.signal : undefined,
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
      const a = e.target && e.target.closest ? e.target.closest('a[data-ss-item]') : null;
      if (!a || !section.contains(a)) return;
      // no need to delay navigation: the tracker sends its queue with sendBeacon on pagehide
      track('rec_click', {
        item_id: a.getAttribute('data-ss-item'),
        position: parseInt(a.getAttribute('data-ss-position'), 10) || 0,
        model_version: modelVersion,
        placement,
      });
    }

    list.addEventListener('click', onClick);
    list.addEventListener('auxclick', onClick);

    if (section.hasAttribute('data-refresh')) {
      const delay = parseInt(section.getAttribute('data-refresh'), 10) || 1000;
      let pending = 0;
      d.addEventListener('slipstream:sent', (e) => {
        const kinds = (e.detail && e.detail.kinds) || [];
        if (section.hidden || !(kinds.indexOf('product_view') >= 0 || kinds.indexOf('add_to_cart') >= 0)) return;
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
      if (ids.length) track('rec_impression', { items: ids, model_version: modelVersion, placement });
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
    if (tracker() || !(d.getElementById('slipstream-config') || w.SlipstreamConfig)) return scan();
    let done = false;
    const go = () => {
      if (!done) {
        done = true;
        scan();
      }
    };
    d.addEventListener('slipstream:ready', go);
    setTimeout(go, 300);
  }

  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
  else start();
  d.addEventListener('shopify:section:load', scan); // the theme editor re-renders sections
})(window, document);
