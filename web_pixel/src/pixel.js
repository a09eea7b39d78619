/**
 * The pixel's behaviour, separate from `register` so tests can drive it with fake Shopify APIs and a fake
 * fetch. Subscribes to checkout_completed (and to product_added_to_cart only when settings.trackCarts is
 * "true": on a theme storefront our tracker already reports add-to-cart under its own event ids, and a
 * second report of the same add could not be de-duplicated; headless storefronts have no theme tracker,
 * so there the pixel reports carts). Builds tp2 events with events.js and
 * POSTs each to settings.collectorUrl: one retry after a short backoff on a network error, 408, 429 or
 * 5xx; other answers are final (the collector's 400/404/413 will never succeed). Never throws.
 */
import { buildEvents, payloadBody } from './events.js';

export const SUBSCRIBED = ['checkout_completed'];
export const CART_EVENT = 'product_added_to_cart'; // only with settings.trackCarts === "true"
export const VISITOR_COOKIE = '_ss_id'; // set by theme_extension/assets/tracker.js on the storefront
export const RETRY_DELAY_MS = 750;
const CONTENT_TYPE = 'application/json; charset=UTF-8';

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const retryable = (status) => status === 408 || status === 429 || status >= 500;

/**
 * api: what register() hands the pixel ({analytics, browser, settings, init, customerPrivacy}).
 * deps (tests): {fetch, now, sleep}. Returns {handle(event) → Promise<boolean>} (true when a POST got 2xx).
 */
export function pixel(api, deps = {}) {
  const doFetch = deps.fetch || ((...a) => fetch(...a));
  const now = deps.now || (() => Date.now());
  const sleep = deps.sleep || wait;
  const { analytics, browser, settings = {}, init = {}, customerPrivacy } = api || {};
  const url = String(settings.collectorUrl || '');
  const shop = String(settings.shop || '');

  // Shopify loads the pixel only with analytics consent (shopify.extension.toml); consent can still be
  // withdrawn without a page load, so follow it.
  let allowed = !(init.customerPrivacy && init.customerPrivacy.analyticsProcessingAllowed === false);
  try {
    customerPrivacy && customerPrivacy.subscribe('visitorConsentCollected', (e) => {
      allowed = !!(e && e.customerPrivacy && e.customerPrivacy.analyticsProcessingAllowed);
    });
  } catch (e) {}

  async function post(events) {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt) await sleep(RETRY_DELAY_MS + Math.floor(Math.random() * 250));
      try {
        const res = await doFetch(url, {
          method: 'POST',
          keepalive: true,
          credentials: 'omit', // identity travels in duid; no cookies for the collector's domain
          headers: { 'Content-Type': CONTENT_TYPE },
          body: payloadBody(events, now()), // stm: the time of this attempt
        });
        if (res && res.ok) return true;
        if (!res || !retryable(res.status)) return false;
      } catch (e) {} // network error: retry once
    }
    return false;
  }

  async function handle(event) {
    try {
      if (!allowed || !/^https?:\/\//.test(url) || !shop) return false;
      let duid = '';
      try {
        duid = (browser && (await browser.cookie.get(VISITOR_COOKIE))) || '';
      } catch (e) {}
      const events = buildEvents(event, { shop, duid });
      return events.length ? await post(events) : false;
    } catch (e) {
      return false;
    }
  }

  if (analytics) {
    const names = settings.trackCarts === 'true' ? [...SUBSCRIBED, CART_EVENT] : SUBSCRIBED;
    for (const name of names) {
      try {
        analytics.subscribe(name, (event) => {
          handle(event);
        });
      } catch (e) {}
    }
  }
  return { handle };
}
