// A storefront page using the real Snowplow JS tracker with its default configuration: only the
// collector URL, the app id (the shop's myshopify domain) and, per run, the event method.
// tests/browser/test_snowplow_js.py serves it as `?collector=…&appId=…&method=post|get&product=…`.
import { newTracker, trackPageView } from "@snowplow/browser-tracker";
import {
  SnowplowEcommercePlugin,
  trackAddToCart,
  trackProductView,
} from "@snowplow/browser-plugin-snowplow-ecommerce";

const params = new URLSearchParams(window.location.search);
const product = {
  id: params.get("product"),
  name: "Red shoe",
  category: "Shoes",
  price: 40,
  currency: "USD",
};

const tracker = newTracker("sp", params.get("collector"), {
  appId: params.get("appId"),
  eventMethod: params.get("method"),
  plugins: [SnowplowEcommercePlugin()],
});

trackPageView();
trackProductView(product);
trackAddToCart({ products: [{ ...product, quantity: 1 }], total_value: 40, currency: "USD" });

window.storefront = { domainUserId: () => tracker.getDomainUserId() };
