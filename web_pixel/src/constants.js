/**
 * The protocol's names, with the same names and values as the copies in the storefront scripts
 * (theme_extension/assets/tracker.js and recommendations.js, between their "protocol names" lines):
 * separate bundles cannot import each other, so test/constants.test.js checks that they agree.
 */

export const SNOWPLOW = 'iglu:com.snowplowanalytics.snowplow';
export const PAYLOAD_SCHEMA = SNOWPLOW + '/payload_data/jsonschema/1-0-4';
export const UE_SCHEMA = SNOWPLOW + '/unstruct_event/jsonschema/1-0-0';
export const CONTEXTS_SCHEMA = SNOWPLOW + '/contexts/jsonschema/1-0-0';
export const ACTION_SCHEMA = SNOWPLOW + '.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2';
export const PRODUCT_SCHEMA = SNOWPLOW + '.ecommerce/product/jsonschema/1-0-0';
export const TRANSACTION_SCHEMA = SNOWPLOW + '.ecommerce/transaction/jsonschema/1-0-0';
export const CONTENT_TYPE = 'application/json; charset=UTF-8';
/** Set by the storefront tracker; the pixel reads it as the visitor id (`duid`). */
export const VISITOR_COOKIE = '_ss_id';
/** A visitor id as the storefront tracker writes it: a hyphenated UUID, which the collector takes. */
export const VISITOR_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const CURRENCY_RE = /^[A-Z]{3}$/;
/** ISO 4217 "no currency": the ecommerce schemas need 3 letters. */
export const NO_CURRENCY = 'XXX';
/** snowplow_ecommerce_action types (and, for the storefront tracker, its event kinds). */
export const ADD_TO_CART = 'add_to_cart';
export const TRANSACTION = 'transaction';
