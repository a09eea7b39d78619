/**
 * The pixel's behaviour, separate from `register` so tests can drive it with fake Shopify APIs and a fake
 * fetch. Subscribes to checkout_completed (and to product_added_to_cart only when settings.trackCarts is
 * "true": on a theme storefront our tracker already reports add-to-cart under its own event ids, and a
 * second report of the same add could not be de-duplicated; headless storefronts have no theme tracker,
 * so there the pixel reports carts). Builds tp2 events with events.js and
 * POSTs each to settings.collectorUrl: one retry after a short backoff on a network error, 408, 429 or
 * 5xx; other answers are final (the collector's 400/404/413 will never succeed). Never throws.
 */
import { CONTENT_TYPE, VISITOR_COOKIE } from './constants.js';
import { buildEvents, CHECKOUT_COMPLETED, PRODUCT_ADDED_TO_CART, payloadBody } from './events.js';

export const SUBSCRIBED = [CHECKOUT_COMPLETED];
export const CART_EVENT = PRODUCT_ADDED_TO_CART; // only with settings.trackCarts === "true"
export const RETRY_DELAY_MS = 750;
const RETRY_JITTER_MS = 250;
/** What a fetch that threw (a network error) reads as: no answer, retried like a 5xx. */
const NO_ANSWER = { ok: false, status: 0 };

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const retryable = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

/**
 * The pixel must never throw into Shopify's sandbox: a call that the sandbox's APIs or the network can
 * make throw (or reject) runs through here, and each caller says why it may. Returns fn's result, or
 * `fallback` when it throws; a promise it returns resolves to `fallback` instead of rejecting.
 */
function quietly(fn, fallback) {
  // eslint-disable-next-line no-restricted-syntax -- the one place the pixel swallows errors
  try {
    const out = fn();
    return typeof out?.then === 'function' ? out.then(null, () => fallback) : out;
  } catch {
    return fallback;
  }
}

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
  let allowed = init.customerPrivacy?.analyticsProcessingAllowed !== false;
  quietly(() => customerPrivacy?.subscribe('visitorConsentCollected', (e) => {
    allowed = !!e?.customerPrivacy?.analyticsProcessingAllowed;
  })); // an older sandbox without the event: the consent the pixel was loaded with stands

  async function post(events) {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt) await sleep(RETRY_DELAY_MS + Math.floor(Math.random() * RETRY_JITTER_MS));
      const res = await quietly(() => doFetch(url, {
        method: 'POST',
        keepalive: true,
        credentials: 'omit', // identity travels in duid; no cookies for the collector's domain
        headers: { 'Content-Type': CONTENT_TYPE },
        body: payloadBody(events, now()), // stm: the time of this attempt
      }), NO_ANSWER); // a network error: retried once
      if (res?.ok) return true;
      if (!res || !retryable(res.status)) return false;
    }
    return false;
  }

  // An event we cannot read is one purchase we do not report, never an error in Shopify's console.
  const handle = (event) => quietly(async () => {
    if (!allowed || !/^https?:\/\//.test(url) || !shop) return false;
    // a cookie we cannot read is a visitor we cannot name: buildEvents then builds nothing
    const duid = (await quietly(() => browser?.cookie.get(VISITOR_COOKIE), '')) || '';
    const events = buildEvents(event, { shop, duid });
    return events.length ? await post(events) : false;
  }, false);

  if (analytics) {
    const names = settings.trackCarts === 'true' ? [...SUBSCRIBED, CART_EVENT] : SUBSCRIBED;
    for (const name of names) {
      // a sandbox that does not know the event: the others are still subscribed
      quietly(() => analytics.subscribe(name, (event) => {
        handle(event);
      }));
    }
  }
  return { handle };
}
