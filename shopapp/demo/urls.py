"""The URLconf while the demo is on (SLIPSTREAM_DEMO: shopapp/settings.py): the app's URLs, then
the demo's. Off the demo this module is never imported, so its paths answer 404."""

from django.urls import include, path

from shopapp.demo import admin as demo_admin
from shopapp.demo import images as demo_images
from shopapp.demo import proxy as demo_proxy
from shopapp.demo import views as demo

urlpatterns = [
    path("", include("shopapp.urls")),
    # A storefront, the signing stand-in app proxy in front of it (both 404 in a demo process
    # without the proxy: SLIPSTREAM_DEMO_APP_PROXY, which `manage.py demo` sets for the processes
    # it runs), and a stand-in admin (demo/admin.py).
    path("apps/slipstream/<path:path>", demo_proxy.app_proxy, name="demo-app-proxy"),
    path("demo/store/", demo.store_index, name="demo-store"),
    # Product pages at the path a Shopify storefront uses, so the block's card links work unchanged.
    path("products/<slug:handle>", demo.product_page, name="demo-product"),
    path("demo/images/<slug:product_id>.svg", demo_images.product_image, name="demo-image"),
    path("demo/dashboard/", demo.dashboard, name="demo-dashboard"),
    path("cart/add", demo.cart_add, name="demo-cart-add"),
    # The merchant's side: a stand-in admin framing the real embedded app, with session tokens.
    path("demo/admin/", demo_admin.admin_page, name="demo-admin"),
    path("demo/admin/token", demo_admin.admin_token, name="demo-admin-token"),
    path("demo/admin/<slug:page>", demo_admin.admin_page, name="demo-admin-page"),
]
