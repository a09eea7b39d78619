// Slipstream web pixel: checkout_completed and product_added_to_cart → our Snowplow-compatible collector.
// Behaviour in pixel.js, payloads in events.js; see ../README.md.
import { register } from '@shopify/web-pixels-extension';
import { pixel } from './pixel.js';

register((api) => {
  pixel(api);
});
